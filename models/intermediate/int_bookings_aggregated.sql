with

bookings as (

    select * from {{ ref('int_bookings_evaluated') }}

),

counted_bookings as (

    select *

    from bookings
    where is_counted_booking

),

final as (

    select
        customer_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as bookings_last_365_days,
        {{ sum_amount('booking_amount') }} as total_spend_last_365_days_exact,
        max(booking_date) as last_booking_date

    from counted_bookings
    group by customer_id

)

select * from final
