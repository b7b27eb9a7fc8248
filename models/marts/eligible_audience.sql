with

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

final as (

    select
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(email_normalized as {{ dbt.type_string() }}) as email,
        cast(first_name as {{ dbt.type_string() }}) as first_name,
        cast(home_state as {{ dbt.type_string() }}) as home_state,
        cast(loyalty_tier as {{ dbt.type_string() }}) as loyalty_tier,
        cast(bookings_last_365_days as {{ dbt.type_bigint() }}) as bookings_last_365_days,
        cast(total_spend_last_365_days as {{ type_money() }}) as total_spend_last_365_days,
        cast(last_booking_date as date) as last_booking_date

    from decisions
    where decision = 'eligible'

)

select * from final
