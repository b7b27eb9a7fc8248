{#-
    Finding exact repeats. A row whose cleaned values equal, column for column, those of a row
    on an earlier line is a duplicate of that line: counted once and reported, never silently
    dropped. Lines the pre-step could not split are never duplicates (they are rejected).
    Which copy is kept cannot change any result, since the copies are identical; the earliest
    line is kept so the report is stable.

    `row_fingerprint(columns)` hashes the cleaned values. It only narrows the search: rows
    whose fingerprint is unique cannot have a copy, and the few others are compared column by
    column, so a hash collision can never turn a row into a duplicate.

    `identical_rows_ctes(relation, columns, name, fingerprint)` renders CTEs ending in
    `<name>`: every row of `relation` plus `duplicate_of_line` (null unless the row repeats an
    earlier line). `relation` must have `source_line`, `structural_error` and the
    `fingerprint` column (by default `row_fingerprint`; any hash that identical rows share
    works, e.g. a hash of the booking_id alone, which also serves the conflict check).
    `<name>__candidates` (every row whose fingerprint repeats, with all its columns) and
    `<name>__copies` (source_line, first_line of every candidate row) stay available to later
    CTEs.

    Cost at volume: `relation` is read three times (the fingerprints; the candidates; every
    row once more, with its `duplicate_of_line`, straight into the model's table); only the
    candidates are stored and compared (measured at 10M bookings: 17.8 s when every row was
    stored a second time with its `duplicate_of_line`, 12.9 s without). The staging models
    store their cleaned text once and parse where they read (see `materialized_cte.sql`).
-#}

{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'audience')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    md5(concat_ws('|'{% for column in columns %}, coalesce({{ column }}, '<null>'){% endfor %}))
{%- endmacro %}

{% macro duckdb__row_fingerprint(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__row_fingerprint(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro identical_rows_ctes(relation, columns, name, fingerprint='row_fingerprint') -%}
{{ name }}__repeated_fingerprints as (

    select {{ fingerprint }} as fingerprint
    from {{ relation }}
    where structural_error is null
    group by {{ fingerprint }}
    having count(*) > 1

),

{{ name }}__candidates as {{ audience.materialized_cte() }} (

    select candidates.*

    from {{ relation }} as candidates
    inner join {{ name }}__repeated_fingerprints
        on candidates.{{ fingerprint }} = {{ name }}__repeated_fingerprints.fingerprint
    where candidates.structural_error is null

),

{{ name }}__copies as (

    select
        source_line,
        min(source_line) over (
            partition by {{ columns | join(', ') }}
        ) as first_line

    from {{ name }}__candidates

),

{{ name }} as (

    select
        rows_in.*,
        case
            when {{ name }}__copies.first_line < rows_in.source_line then {{ name }}__copies.first_line
        end as duplicate_of_line

    from {{ relation }} as rows_in
    left join {{ name }}__copies
        on rows_in.source_line = {{ name }}__copies.source_line

)
{%- endmacro %}

{#- accepted / rejected / duplicate, from `duplicate_of_line` and `rejection_reason`. -#}
{% macro row_disposition() -%}
    case
        when duplicate_of_line is not null then 'duplicate'
        when rejection_reason is not null then 'rejected'
        else 'accepted'
    end
{%- endmacro %}
