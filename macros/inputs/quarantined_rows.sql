{#-
    The quarantine of one input file: every row that was not accepted, with its line, what
    happened to it and why, and the values exactly as they arrived. Rejected rows carry the
    first contract rule they broke; duplicates name the line they repeat. Used by the
    `stg_exports__<input file>_quarantined` models, which the `rejected_<input file>` marts
    publish as `rejected_<input file>.csv`.

    Where the base model is a view (a landing folder on DuckDB, whose view splits every line; a
    warehouse table with its own record number), the values as they arrived are read again for
    the lines not accepted only (`raw_rows(only_lines=...)`), instead of splitting or reading
    every line a second time. Where it is a table (seeds, Spark, a warehouse table without a
    record number), it is joined.
-#}
{% macro quarantined_rows(input_file) -%}
    {%- set columns = var('input_files')[input_file] -%}
with

checked as (

    select * from {{ ref('stg_exports__' ~ input_file ~ '_checked') }}

),

-- the few lines not accepted, read once: the raw values below are looked up for these only
not_accepted as {{ audience.materialized_cte() }} (

    select
        source_line,
        disposition,
        coalesce(
            rejection_reason,
            'duplicate of line ' || cast(duplicate_of_line as {{ dbt.type_string() }})
        ) as reason

    from checked
    where disposition <> 'accepted'

),

raw_rows as (

    {%- if audience.raw_rows_materialization() == 'view' %}

    {{ audience.raw_rows(input_file, only_lines='select source_line from not_accepted') }}

    {%- else %}

    select * from {{ ref('base_exports__' ~ input_file) }}

    {%- endif %}

),

final as (

    select
        not_accepted.source_line,
        not_accepted.disposition,
        not_accepted.reason,
        {%- for column in columns %}
        raw_rows.{{ column }},
        {%- endfor %}
        raw_rows.raw_line

    from not_accepted
    inner join raw_rows
        on not_accepted.source_line = raw_rows.source_line

)

select * from final
{%- endmacro %}
