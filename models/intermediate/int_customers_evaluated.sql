with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

held as (

    select * from {{ ref('int_customers_held') }}

),

email_consent as (

    select * from {{ ref('int_email_consent_resolved') }}

),

suppressions as (

    select * from {{ ref('int_suppressions_matched') }}

),

bookings as (

    select * from {{ ref('int_bookings_aggregated') }}

),

checks as (

    select
        customers.customer_id,
        customers.email_normalized,
        customers.first_name,
        customers.home_state,
        customers.loyalty_tier,
        customers.snapshot_source_line,
        held.customer_id is not null or not customers.has_current_snapshot as is_on_hold,
        coalesce(held.rejected_consent_event_rows, 0) > 0 as has_rejected_consent_event,
        customers.is_active,
        customers.email_normalized is not null as has_email,
        {{ is_valid_email('customers.email_normalized') }} as has_valid_email,
        email_consent.customer_id is not null as has_email_consent,
        coalesce(email_consent.is_opted_in, false) as is_opted_in,
        email_consent.latest_consent_status,
        email_consent.latest_event_id as latest_consent_event_id,
        email_consent.latest_event_ts_utc as latest_consent_event_ts_utc,
        suppressions.customer_id is not null as is_suppressed,
        coalesce(suppressions.is_suppressed_by_customer_id, false) as is_suppressed_by_customer_id,
        suppressions.suppressed_through,
        coalesce(bookings.bookings_last_365_days, 0) as bookings_last_365_days,
        -- rule 8: at least var min_recent_bookings bookings that count
        coalesce(bookings.bookings_last_365_days, 0)
        >= {{ rule_parameters().min_recent_bookings }} as has_recent_bookings,
        coalesce(bookings.total_spend_last_365_days_exact, 0) as total_spend_last_365_days_exact,
        bookings.last_booking_date

    from customers
    left join held
        on customers.customer_id = held.customer_id
    left join email_consent
        on customers.customer_id = email_consent.customer_id
    left join suppressions
        on customers.customer_id = suppressions.customer_id
    left join bookings
        on customers.customer_id = bookings.customer_id

),

final as (

    select
        *,
        case
            when is_on_hold then 'data_quality_hold'
            when not is_active then 'inactive'
            when not has_email then 'missing_email'
            when not has_valid_email then 'invalid_email'
            when not has_email_consent then 'no_email_consent'
            when not is_opted_in then 'not_opted_in'
            when is_suppressed then 'suppressed'
            when not has_recent_bookings then 'no_recent_booking'
        end as individual_exclusion_reason

    from checks

)

select * from final
