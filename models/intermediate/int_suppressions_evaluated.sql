-- A view: int_suppressions_matched reads it once and `audience explain` reads the rows naming one
-- customer; nothing here is worth storing twice.
{{ config(materialized='view') }}

with

suppressions as (

    select * from {{ ref('stg_exports__suppressions') }}

),

suppressions_checked as (

    select * from {{ ref('stg_exports__suppressions_checked') }}

),

accepted_rows as (

    select
        source_line,
        customer_id,
        email_normalized,
        suppression_reason,
        suppressed_from,
        suppressed_until,
        is_open_ended,
        has_unreadable_dates,
        false as is_unsplittable_line,
        false as is_id_read_from_digits,
        cast(null as {{ dbt.type_string() }}) as line_rejection_reason,
        has_unreadable_dates as is_active_because_unreadable

    from suppressions

),

-- a line that could not be split suppresses every id and email it may name (read from the
-- line's start and from its end), whatever its dates: doubt about a suppression excludes;
-- `union` keeps one row per line and reading when two readings agree
unsplittable_line_readings as (

    select
        source_line,
        salvaged_customer_id as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        rejection_reason

    from suppressions_checked
    where salvaged_customer_id is not null

    union

    select
        source_line,
        salvaged_customer_id_from_end as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        rejection_reason

    from suppressions_checked
    where salvaged_customer_id_from_end is not null

    union

    select
        source_line,
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        salvaged_email_normalized as email_normalized,
        rejection_reason

    from suppressions_checked
    where salvaged_email_normalized is not null

    union

    select
        source_line,
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        salvaged_email_normalized_from_end as email_normalized,
        rejection_reason

    from suppressions_checked
    where salvaged_email_normalized_from_end is not null

),

unsplittable_lines as (

    select
        source_line,
        customer_id,
        email_normalized,
        cast(null as {{ dbt.type_string() }}) as suppression_reason,
        cast(null as date) as suppressed_from,
        cast(null as date) as suppressed_until,
        cast(null as {{ dbt.type_boolean() }}) as is_open_ended,
        cast(null as {{ dbt.type_boolean() }}) as has_unreadable_dates,
        true as is_unsplittable_line,
        false as is_id_read_from_digits,
        rejection_reason as line_rejection_reason,
        true as is_active_because_unreadable

    from unsplittable_line_readings

),

-- a row whose customer_id cannot be read (accepted for its email, or rejected) suppresses the
-- customer its digits may name (customer_id_in_digits), by the row's own dates: doubt about
-- whom a suppression names excludes; a reading a structural error's readings already give is
-- not repeated
id_in_digits_rows as (

    select
        suppressions_checked.source_line,
        suppressions_checked.customer_id_in_digits as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        suppressions_checked.suppression_reason,
        suppressions_checked.suppressed_from,
        suppressions_checked.suppressed_until,
        suppressions_checked.is_open_ended,
        suppressions_checked.has_unreadable_dates,
        false as is_unsplittable_line,
        true as is_id_read_from_digits,
        suppressions_checked.rejection_reason as line_rejection_reason,
        suppressions_checked.has_unreadable_dates as is_active_because_unreadable

    from suppressions_checked
    left join unsplittable_line_readings
        on
            suppressions_checked.source_line = unsplittable_line_readings.source_line
            and suppressions_checked.customer_id_in_digits = unsplittable_line_readings.customer_id
    where
        suppressions_checked.customer_id_in_digits is not null
        and suppressions_checked.disposition <> 'duplicate'
        and unsplittable_line_readings.source_line is null

),

suppressions_named as (

    select * from accepted_rows
    union all
    select * from unsplittable_lines
    union all
    select * from id_in_digits_rows

),

-- rule 7: active on the as-of date when suppressed_from <= as-of and suppressed_until is blank
-- or >= as-of; a row whose dates (or whole line) cannot be read is active whatever they say
suppressions_dated as (

    select
        *,
        case
            when is_active_because_unreadable then null
            when
                suppressed_from <= {{ as_of_date() }}
                and (is_open_ended or suppressed_until >= {{ as_of_date() }})
                then null
            when suppressed_from > {{ as_of_date() }} then 'starts_after_as_of'
            else 'ended_before_as_of'
        end as suppression_inactive_reason

    from suppressions_named

),

final as (

    select
        source_line,
        customer_id,
        email_normalized,
        suppression_reason,
        suppressed_from,
        suppressed_until,
        is_open_ended,
        has_unreadable_dates,
        is_unsplittable_line,
        is_id_read_from_digits,
        line_rejection_reason,
        is_active_because_unreadable,
        suppression_inactive_reason,
        suppression_inactive_reason is null as is_active_on_as_of

    from suppressions_dated

)

select * from final
