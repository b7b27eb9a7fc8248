-- A view: int_bookings_aggregated reads it once and `audience explain` reads one customer's rows, so
-- storing every accepted booking a second time (20M rows at 10M bookings) would buy nothing.
{{ config(materialized='view') }}
{%- set window_days = rule_parameters().recent_booking_days %}

with

bookings as (

    select * from {{ ref('stg_exports__bookings') }}

),

-- rule 8: a booking counts when its status is one of var counted_booking_statuses and
-- as-of - var recent_booking_days < booking_date <= as-of; otherwise the first reason it does
-- not (staging rejects a booking without a date)
bookings_classified as (

    select
        *,
        case
            when coalesce(booking_status not in ({{ counted_booking_statuses_sql() }}), true)
                then 'status_not_counted'
            when
                booking_date > {{ dbt.dateadd('day', -window_days, as_of_date()) }}
                and booking_date <= {{ as_of_date() }}
                then null
            when booking_date > {{ as_of_date() }} then 'after_as_of'
            else 'before_window'
        end as booking_not_counted_reason

    from bookings

),

final as (

    select
        source_line,
        booking_id,
        customer_id,
        booking_date,
        booking_amount,
        booking_status,
        booking_not_counted_reason,
        booking_not_counted_reason is null as is_counted_booking

    from bookings_classified

)

select * from final
