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
        false as is_read_within_fields,
        cast(null as {{ dbt.type_string() }}) as line_rejection_reason,
        has_unreadable_dates as is_active_because_unreadable

    from suppressions

),

-- a line that could not be split suppresses every id and email it may name (read from the
-- line's start and from its end, an id with three zero decimals in both readings, and its
-- id read uncut where a thousands separator may have cut it: `157,000`), whatever
-- its dates: doubt about a suppression excludes;
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
        salvaged_customer_id_uncut as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        rejection_reason

    from suppressions_checked
    where salvaged_customer_id_uncut is not null

    union

    select
        source_line,
        customer_id_before_zero_decimals as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        rejection_reason

    from suppressions_checked
    where customer_id_before_zero_decimals is not null and has_structural_error

    union

    select
        source_line,
        customer_id_before_zero_decimals_from_end as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        rejection_reason

    from suppressions_checked
    where customer_id_before_zero_decimals_from_end is not null and has_structural_error

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
        false as is_read_within_fields,
        rejection_reason as line_rejection_reason,
        true as is_active_because_unreadable

    from unsplittable_line_readings

),

-- a row whose customer_id cannot be read (accepted for its email, or rejected) suppresses the
-- customer its digits may name (customer_id_in_digits) and, when they could be an id written
-- with three zero decimals, the one before the decimals (customer_id_before_zero_decimals:
-- `157.000` names 157000 and 157; on a line with a structural error, a reading above), by the
-- row's own dates: doubt about whom a suppression
-- names excludes; a reading a structural error's readings already give is not repeated
ids_in_digits as (

    select
        source_line,
        customer_id_in_digits as customer_id

    from suppressions_checked
    where customer_id_in_digits is not null and disposition <> 'duplicate'

    union

    select
        source_line,
        customer_id_before_zero_decimals as customer_id

    from suppressions_checked
    where
        customer_id_before_zero_decimals is not null
        and not has_structural_error
        and disposition <> 'duplicate'

),

id_in_digits_rows as (

    select
        suppressions_checked.source_line,
        ids_in_digits.customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        suppressions_checked.suppression_reason,
        suppressions_checked.suppressed_from,
        suppressions_checked.suppressed_until,
        suppressions_checked.is_open_ended,
        suppressions_checked.has_unreadable_dates,
        false as is_unsplittable_line,
        true as is_id_read_from_digits,
        false as is_read_within_fields,
        suppressions_checked.rejection_reason as line_rejection_reason,
        suppressions_checked.has_unreadable_dates as is_active_because_unreadable

    from ids_in_digits
    inner join suppressions_checked
        on ids_in_digits.source_line = suppressions_checked.source_line
    left join unsplittable_line_readings
        on
            ids_in_digits.source_line = unsplittable_line_readings.source_line
            and ids_in_digits.customer_id = unsplittable_line_readings.customer_id
    where unsplittable_line_readings.source_line is null

),

-- what else a row's fields may name, by the row's own dates (a line with a structural error:
-- whatever its dates): an address written inside other text (`<a@x.com>`, `"Jane"
-- <a@x.com>`, `mailto:a@x.com`, `a@x.com; b@x.com, c@x.com`: every one, in the customer_id
-- and email fields or the whole line) and an id written in the email column (the columns
-- swapped); a reading another row already gives is not repeated
field_readings as (

    select
        source_line,
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        {{ words_of('addresses_in_fields') }} as email_normalized

    from suppressions_checked
    where addresses_in_fields is not null and disposition <> 'duplicate'

    union

    select
        source_line,
        customer_id_in_email as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized

    from suppressions_checked
    where customer_id_in_email is not null and disposition <> 'duplicate'

),

readings_named as (

    select
        source_line,
        customer_id,
        email_normalized

    from accepted_rows
    union all

    select
        source_line,
        customer_id,
        email_normalized

    from unsplittable_line_readings
    union all

    select
        source_line,
        customer_id,
        email_normalized

    from id_in_digits_rows

),

new_field_readings as (

    select field_readings.*

    from field_readings
    left join readings_named
        on
            field_readings.source_line = readings_named.source_line
            and (
                field_readings.customer_id = readings_named.customer_id
                or field_readings.email_normalized = readings_named.email_normalized
            )
    where readings_named.source_line is null

),

field_reading_rows as (

    select
        suppressions_checked.source_line,
        new_field_readings.customer_id,
        new_field_readings.email_normalized,
        -- a line with a structural error has no columns to trust: no reason and no dates
        case
            when not suppressions_checked.has_structural_error then suppressions_checked.suppression_reason
        end as suppression_reason,
        case
            when not suppressions_checked.has_structural_error then suppressions_checked.suppressed_from
        end as suppressed_from,
        case
            when not suppressions_checked.has_structural_error then suppressions_checked.suppressed_until
        end as suppressed_until,
        case
            when not suppressions_checked.has_structural_error then suppressions_checked.is_open_ended
        end as is_open_ended,
        case
            when not suppressions_checked.has_structural_error then suppressions_checked.has_unreadable_dates
        end as has_unreadable_dates,
        suppressions_checked.has_structural_error as is_unsplittable_line,
        false as is_id_read_from_digits,
        true as is_read_within_fields,
        suppressions_checked.rejection_reason as line_rejection_reason,
        (
            suppressions_checked.has_structural_error
            or suppressions_checked.has_unreadable_dates
        ) as is_active_because_unreadable

    from new_field_readings
    inner join suppressions_checked
        on new_field_readings.source_line = suppressions_checked.source_line

),

suppressions_named as (

    select * from accepted_rows
    union all
    select * from unsplittable_lines
    union all
    select * from id_in_digits_rows
    union all
    select * from field_reading_rows

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
        is_read_within_fields,
        line_rejection_reason,
        is_active_because_unreadable,
        suppression_inactive_reason,
        suppression_inactive_reason is null as is_active_on_as_of

    from suppressions_dated

)

select * from final
