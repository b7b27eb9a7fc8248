{#-
    The one place that knows where raw rows come from. Staging models call
    `raw_rows('<input file>')` and get every raw row of that file as text, with:

    - `source_line`: the row's line in the file (the header is line 1);
    - `structural_error`: why the pre-step could not split the line into the contract's
      columns (null when it could);
    - `raw_line`: the line as it was, kept only for rows with a structural error;
    - the contract's columns, as text.

    `var('raw_input')` chooses the origin: 'seeds' reads the committed sample loaded by
    `dbt seed`; 'landing' reads the tables the pre-step (`scripts/run_pipeline.py`) wrote
    from a landing folder. The columns of each file come from `var('input_files')`, the data
    contract shared with the pre-step.
-#}
{% macro raw_rows(input_file) -%}
    {%- set columns = var('input_files')[input_file] -%}
    {%- if var('raw_input') == 'seeds' %}
    select
        cast(row_number() over () + 1 as {{ dbt.type_bigint() }}) as source_line,
        cast(null as {{ dbt.type_string() }}) as structural_error,
        cast(null as {{ dbt.type_string() }}) as raw_line,
        {%- for column in columns %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(input_file) }}
    {%- elif var('raw_input') == 'landing' %}
    select
        source_line,
        structural_error,
        raw_line,
        {%- for column in columns %}
        {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ source('landing', input_file) }}
    {%- else %}
        {{ exceptions.raise_compiler_error("var('raw_input') must be 'seeds' or 'landing', not '" ~ var('raw_input') ~ "'") }}
    {%- endif %}
{%- endmacro %}

{#-
    How the base models are materialized: a view over the pre-step's landing table (no copy
    of millions of rows), or a table for seeds, so that the line numbers computed from the
    seed's row order are fixed once and every model downstream sees the same ones.
-#}
{% macro raw_rows_materialization() -%}
    {{ return('view' if var('raw_input') == 'landing' else 'table') }}
{%- endmacro %}
