{#-
    The one place that knows where raw rows come from. Staging models call
    `raw_rows('<input file>')` and get every raw row of that file as text, with:

    - `source_line`: the row's line in the file (the header is line 1);
    - `structural_error`: why the line could not be split into the contract's columns (null
      when it could);
    - `raw_line`: the line as it was, kept only for rows with a structural error;
    - `is_unpadded_line`: true when no field of the line can start or end with a space
      character, so its fields need no trim (`clean_field`); false for seeds and warehouse
      tables, whose values are always trimmed;
    - `salvaged_<column>`, `salvaged_<column>_from_end`, for each of `var('salvaged_columns')`
      the file has (customer_id; email too in customers and suppressions): for a line with a
      structural error, the text where that column would be, counting comma-separated pieces
      from the line's start and from its end (the header's order is known); null otherwise,
      and always null for seeds and warehouse tables, whose rows are split;
    - `salvaged_customer_id_uncut`: for a line with a structural error, its pieces from where
      the customer_id would sit to its end, rejoined by commas (`157,000,...`: an id cut in two
      is whole at its start); null otherwise, and for seeds and warehouse tables;
    - the contract's columns, as text.

    `only_lines` (optional): a query of the `source_line`s wanted; the other lines are left out
    before they are split (the quarantine splits again only the lines that were not accepted).

    `var('raw_input')` chooses the origin: 'seeds' reads the committed sample loaded by
    `dbt seed`; 'landing' splits the lines of a landing folder's files (`landing_rows`: on
    DuckDB the lines the pre-step of `audience run` stored, on Spark the files themselves,
    read by the engine); 'warehouse' reads tables that already
    live in the engine (source `warehouse`: one table per input file in
    `var('warehouse_schema')`, the contract's columns plus a record number named by
    `var('warehouse_line_column')`). The columns of each file come from `var('input_files')`,
    the data contract shared with the pre-step.

    In 'warehouse' mode nothing leaves the engine: the staging models apply the same value
    rules, in the warehouse's SQL, to the rows where they are. Without a record number
    (`warehouse_line_column: ''`) rows are numbered in the order of their values, which is
    deterministic where text sorts in byte order (identical rows are adjacent, and which copy
    counts as the duplicate cannot change a result) but is not the order the rows arrived in.
-#}
{% macro raw_rows(input_file, only_lines=none) -%}
    {%- set columns = var('input_files')[input_file] -%}
    {%- set salvaged = var('salvaged_columns') | select('in', columns) | list -%}
    {%- if var('raw_input') == 'landing' %}
    {{ audience.landing_rows(input_file, only_lines) }}
    {%- elif only_lines %}
    select * from (
        {{ audience.raw_rows(input_file) }}
    ) as every_row
    where source_line in ({{ only_lines }})
    {%- elif var('raw_input') == 'seeds' %}
    select
        cast({{ audience.seed_row_number() }} + 1 as {{ dbt.type_bigint() }}) as source_line,
        {{ audience.split_row_columns(columns, salvaged) }}
    from {{ ref(input_file) }}
    {%- elif var('raw_input') == 'warehouse' %}
    {%- set line_column = var('warehouse_line_column') | string | trim %}
    {%- if var('warehouse_schema') | lower == 'raw' %}
        {{ exceptions.raise_compiler_error("var('warehouse_schema') cannot be 'raw': `dbt seed` writes the sample there") }}
    {%- endif %}
    select
        {%- if line_column %}
        cast({{ line_column }} as {{ dbt.type_bigint() }}) as source_line,
        {%- else %}
        cast(row_number() over (
            order by {% for column in columns %}cast({{ column }} as {{ dbt.type_string() }}) asc nulls first{{ ", " if not loop.last }}{% endfor %}
        ) + 1 as {{ dbt.type_bigint() }}) as source_line,
        {%- endif %}
        {{ audience.split_row_columns(columns, salvaged) }}
    from {{ source('warehouse', input_file) }}
    {%- else %}
        {{ exceptions.raise_compiler_error("var('raw_input') must be 'seeds', 'landing' or 'warehouse', not '" ~ var('raw_input') ~ "'") }}
    {%- endif %}
{%- endmacro %}

{#-
    The columns after `source_line` for rows that arrive already split (seeds, warehouse
    tables): no structural error, no raw line, no salvaged readings, and the contract's columns
    as text.
-#}
{% macro split_row_columns(columns, salvaged) -%}
        cast(null as {{ dbt.type_string() }}) as structural_error,
        cast(null as {{ dbt.type_string() }}) as raw_line,
        false as is_unpadded_line,
        {%- for column in salvaged %}
        cast(null as {{ dbt.type_string() }}) as salvaged_{{ column }},
        cast(null as {{ dbt.type_string() }}) as salvaged_{{ column }}_from_end,
        {%- if column == 'customer_id' %}
        cast(null as {{ dbt.type_string() }}) as salvaged_{{ column }}_uncut,
        {%- endif %}
        {%- endfor %}
        {%- for column in columns %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#-
    How the base models are materialized: a view over the lines the DuckDB pre-step stored or
    over a warehouse table with its own record number (no copy of millions of rows), or a
    table otherwise (Spark's landing files among them), so that line numbers computed from the
    rows' order are fixed once and every model downstream sees the same ones.
-#}
{% macro raw_rows_materialization() -%}
    {%- if var('raw_input') == 'landing' -%}
        {{ return(audience.landing_rows_materialization()) }}
    {%- endif -%}
    {%- set has_line_numbers = var('raw_input') == 'warehouse' and var('warehouse_line_column') | string | trim -%}
    {{ return('view' if has_line_numbers else 'table') }}
{%- endmacro %}

{% macro landing_rows_materialization() -%}
    {{ return(adapter.dispatch('landing_rows_materialization', 'audience')()) }}
{%- endmacro %}

{% macro default__landing_rows_materialization() -%}
    {{ return('view') }}
{%- endmacro %}

{% macro spark__landing_rows_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#-
    A seed row's position in its CSV file (1 for the first data line), from the order `dbt seed`
    inserted the rows in: the seed table is read in insertion order. DuckDB keeps insertion
    order (`preserve_insertion_order`); PostgreSQL orders by the row's physical address (a
    freshly loaded table is stored in insertion order); Spark numbers the rows of its single,
    ordered seed file (see spark_seeds.sql), which it reads in one partition.
-#}
{% macro seed_row_number() -%}
    {{ return(adapter.dispatch('seed_row_number', 'audience')()) }}
{%- endmacro %}

{% macro default__seed_row_number() -%}
    row_number() over ()
{%- endmacro %}

{% macro postgres__seed_row_number() -%}
    row_number() over (order by ctid)
{%- endmacro %}

{% macro spark__seed_row_number() -%}
    row_number() over (order by monotonically_increasing_id())
{%- endmacro %}
