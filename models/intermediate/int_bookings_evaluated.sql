-- A view: int_bookings_aggregated reads it once and `audience explain` reads one customer's rows, so
-- storing every accepted booking a second time (20M rows at 10M bookings) would buy nothing.
{{ config(materialized='view') }}

with

bookings as (

    select * from {{ ref('stg_exports__bookings') }}

),

-- rule 8: a booking counts when it is COMPLETED and as-of - 365 days < booking_date <= as-of;
-- otherwise the first reason it does not (staging rejects a booking without a date)
bookings_classified as (

    select
        *,
        case
            when coalesce(booking_status <> 'COMPLETED', true) then 'not_completed'
            when
                booking_date > {{ dbt.dateadd('day', -365, as_of_date()) }}
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
