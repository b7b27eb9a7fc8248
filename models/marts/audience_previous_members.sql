{#-
    The audience published to this build's destination by the previous run
    (`audience_previous_run`), as it was published: the values the campaign platform holds
    (source `history`, table `run_audience`). Empty on a first run.
-#}
{%- set run_audience = published_audiences() %}

with

previous_run as (

    select * from {{ ref('audience_previous_run') }}

),

run_audience as (

    select
        run_audience.run_id,
        run_audience.customer_id,
        run_audience.email,
        run_audience.first_name,
        run_audience.home_state,
        run_audience.loyalty_tier,
        run_audience.bookings_last_365_days,
        run_audience.total_spend_last_365_days,
        run_audience.last_booking_date

    from {{ run_audience }} as run_audience

),

final as (

    select
        cast(run_audience.customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(run_audience.email as {{ dbt.type_string() }}) as email,
        cast(run_audience.first_name as {{ dbt.type_string() }}) as first_name,
        cast(run_audience.home_state as {{ dbt.type_string() }}) as home_state,
        cast(run_audience.loyalty_tier as {{ dbt.type_string() }}) as loyalty_tier,
        cast(run_audience.bookings_last_365_days as {{ dbt.type_bigint() }}) as bookings_last_365_days,
        cast(run_audience.total_spend_last_365_days as {{ type_money() }}) as total_spend_last_365_days,
        cast(run_audience.last_booking_date as date) as last_booking_date,
        previous_run.previous_run_id

    from run_audience
    inner join previous_run
        on run_audience.run_id = previous_run.previous_run_id

)

select * from final
