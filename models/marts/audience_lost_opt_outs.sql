with

audience as (

    select * from {{ ref('eligible_audience') }}

),

customers as (

    select * from {{ ref('int_customers_evaluated') }}

),

previous_withholding_events as (

    select * from {{ ref('audience_previous_withholding_events') }}

),

-- the customers published now whose latest email event withheld consent in the previous run
published_after_withholding as (

    select
        audience.customer_id,
        previous_withholding_events.withholding_event_id as previous_withholding_event_id,
        previous_withholding_events.withholding_event_ts_utc as previous_withholding_event_ts_utc,
        previous_withholding_events.previous_run_id

    from audience
    inner join previous_withholding_events
        on audience.customer_id = previous_withholding_events.customer_id

),

-- still read, that event would be their latest email event or come before a later opt-in (an
-- opt-in at the same instant loses), so an opt-in that publishes them no later than it means
-- the event is no longer read; no deciding instant at all is doubt, and listed
final as (

    select
        published_after_withholding.customer_id,
        published_after_withholding.previous_withholding_event_id,
        published_after_withholding.previous_withholding_event_ts_utc,
        customers.latest_consent_event_id,
        customers.latest_consent_event_ts_utc,
        published_after_withholding.previous_run_id

    from published_after_withholding
    left join customers
        on published_after_withholding.customer_id = customers.customer_id
    where
        coalesce(
            customers.latest_consent_event_ts_utc
            > published_after_withholding.previous_withholding_event_ts_utc,
            false
        ) = false

)

select * from final
