{#-
    Marks exact repeats. A row whose trimmed values equal, column for column, those of a row
    on an earlier line is a duplicate of that line: it is counted once and reported, never
    silently dropped. Lines the pre-step could not split are never duplicates (they are
    rejected). The choice of which copy is kept cannot change any result, since the copies
    are identical; the earliest line is kept so the report is stable.

    Returns every column of `relation` plus `duplicate_of_line` (null for the kept copy).
-#}
{% macro mark_identical_rows(relation, columns) -%}
    {%- set partition_by -%}
        {%- for column in columns %}{{ audience.clean_text(column) }}{{ ", " if not loop.last }}{% endfor -%}
    {%- endset -%}
    select
        *,
        case
            when structural_error is null
                and row_number() over (partition by {{ partition_by }} order by source_line) > 1
                then min(source_line) over (partition by {{ partition_by }})
        end as duplicate_of_line
    from {{ relation }}
{%- endmacro %}

{#- accepted / rejected / duplicate, from `duplicate_of_line` and `rejection_reason`. -#}
{% macro row_disposition() -%}
    case
        when duplicate_of_line is not null then 'duplicate'
        when rejection_reason is not null then 'rejected'
        else 'accepted'
    end
{%- endmacro %}
