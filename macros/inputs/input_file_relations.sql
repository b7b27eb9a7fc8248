{#- The contract's input files as a relation with one column, `input_file`. -#}
{% macro input_files_relation() -%}
    {%- for input_file in var('input_files') %}
    select '{{ input_file }}' as input_file
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Every raw row's disposition, from each file's `stg_exports__<file>_checked` model. -#}
{% macro checked_dispositions_relation() -%}
    {%- for input_file in var('input_files') %}
    select
        '{{ input_file }}' as input_file,
        disposition
    from {{ ref('stg_exports__' ~ input_file ~ '_checked') }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The rows of each file's published quarantine (`rejected_<file>`), counted per file. -#}
{% macro quarantined_counts_relation() -%}
    {%- for input_file in var('input_files') %}
    select
        '{{ input_file }}' as input_file,
        count(*) as quarantined_rows
    from {{ ref('rejected_' ~ input_file) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The lines of every input file rejected as its header in another column order
    (`input_file, source_line, reason`), from the published quarantines. -#}
{% macro header_lines_in_another_order_relation() -%}
    {%- for input_file in var('input_files') %}
    select
        '{{ input_file }}' as input_file,
        source_line,
        reason
    from {{ ref('rejected_' ~ input_file) }}
    where reason = {{ audience.sql_string(audience.header_in_another_order()) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    Raw row counts where rows enter the project, shaped like the pre-step's manifest
    (`input_file, file_path, byte_count, sha256, data_lines, extra_columns, encoding,
    delimiter`): the manifest itself for a landing folder, counts of the seed tables for the
    committed sample (read by `dbt seed` as UTF-8 with commas), counts of the warehouse tables
    (named in `file_path`; no encoding or delimiter) for data that already lives in the engine.
-#}
{% macro input_file_manifest_relation() -%}
    {%- if var('raw_input') == 'landing' %}
    {{ audience.landing_manifest_relation() }}
    {%- else %}
    {%- for input_file in var('input_files') %}
    {%- set relation = source('warehouse', input_file) if var('raw_input') == 'warehouse' else ref(input_file) %}
    select
        '{{ input_file }}' as input_file,
        {%- if var('raw_input') == 'warehouse' %}
        '{{ relation }}' as file_path,
        {%- else %}
        'seeds/{{ input_file }}.csv' as file_path,
        {%- endif %}
        cast(null as {{ dbt.type_bigint() }}) as byte_count,
        cast(null as {{ dbt.type_string() }}) as sha256,
        count(*) as data_lines,
        cast(null as {{ dbt.type_string() }}) as extra_columns,
        {%- if var('raw_input') == 'warehouse' %}
        cast(null as {{ dbt.type_string() }}) as encoding,
        cast(null as {{ dbt.type_string() }}) as delimiter
        {%- else %}
        'utf-8' as encoding,
        ',' as delimiter
        {%- endif %}
    from {{ relation }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#-
    The pre-step's manifest of a landing folder: on DuckDB the table it wrote; on Spark, which
    reads the files itself, the same facts from the layout the pre-step handed over (its line
    count is the pre-step's own, counted as it checksummed the file: the reconciliation then
    compares it with the lines Spark read).
-#}
{% macro landing_manifest_relation() -%}
    {{ return(adapter.dispatch('landing_manifest_relation', 'audience')()) }}
{%- endmacro %}

{% macro default__landing_manifest_relation() -%}
    select
        input_file,
        file_path,
        byte_count,
        sha256,
        data_lines,
        extra_columns,
        encoding,
        delimiter
    from {{ source('landing', 'input_files') }}
{%- endmacro %}

{% macro spark__landing_manifest_relation() -%}
    {%- for input_file in var('input_files') %}
    {%- set layout = audience.landing_layout(input_file) %}
    select
        '{{ input_file }}' as input_file,
        {{ audience.sql_string(layout.get('path', '')) }} as file_path,
        cast({{ layout.get('byte_count', 0) | int }} as {{ dbt.type_bigint() }}) as byte_count,
        {{ audience.sql_string(layout.get('sha256', '')) }} as sha256,
        cast({{ layout.get('data_lines', 0) | int }} as {{ dbt.type_bigint() }}) as data_lines,
        {{ audience.sql_string(layout.get('extra_columns', '')) }} as extra_columns,
        {{ audience.sql_string(layout.get('encoding', 'utf-8')) }} as encoding,
        {{ audience.sql_string(layout.get('delimiter', ',')) }} as delimiter
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}
