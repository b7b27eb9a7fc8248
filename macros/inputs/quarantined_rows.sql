{#-
    The quarantine of one input file: every row that was not accepted, with its line, what
    happened to it and why, and the values exactly as they arrived. Rejected rows carry the
    first contract rule they broke; duplicates name the line they repeat. Used by the
    `rejected_<input file>` marts, which the publish step writes to `rejected_<input file>.csv`.
-#}
{% macro quarantined_rows(input_file) -%}
    {%- set columns = var('input_files')[input_file] -%}
with

checked as (

    select * from {{ ref('stg_exports__' ~ input_file ~ '_checked') }}

),

final as (

    select
        source_line,
        disposition,
        coalesce(
            rejection_reason,
            'duplicate of line ' || cast(duplicate_of_line as {{ dbt.type_string() }})
        ) as reason,
        {%- for column in columns %}
        raw_{{ column }} as {{ column }},
        {%- endfor %}
        raw_line

    from checked
    where disposition <> 'accepted'

)

select * from final
{%- endmacro %}
