{#-
    The quarantine of one input file: every row that was not accepted, with its line, what
    happened to it and why, and the values exactly as they arrived (from the base model).
    Rejected rows carry the first contract rule they broke; duplicates name the line they
    repeat. Used by the `rejected_<input file>` marts, which the publish step writes to
    `rejected_<input file>.csv`.
-#}
{% macro quarantined_rows(input_file) -%}
    {%- set columns = var('input_files')[input_file] -%}
with

checked as (

    select * from {{ ref('stg_exports__' ~ input_file ~ '_checked') }}

),

raw_rows as (

    select * from {{ ref('base_exports__' ~ input_file) }}

),

not_accepted as (

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
