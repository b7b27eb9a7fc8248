with

bookings as (

    select * from {{ ref('stg_exports__bookings') }}

),

recent_completed_bookings as (

    select *

    from bookings
    where
        booking_status = 'COMPLETED'
        and booking_date > {{ dbt.dateadd('day', -365, as_of_date()) }}
        and booking_date <= {{ as_of_date() }}

),

final as (

    select
        customer_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as bookings_last_365_days,
        {{ sum_amount('booking_amount') }} as total_spend_last_365_days_exact,
        max(booking_date) as last_booking_date

    from recent_completed_bookings
    group by customer_id

)

select * from final
