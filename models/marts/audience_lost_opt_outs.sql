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

-- the customers whose latest email event withheld consent in the previous run and whose
-- address is published now: at them, or at another holder, for whom that event would block it
-- too (rule 9)
published_at_their_address as (

    select
        previous_withholding_events.customer_id,
        previous_withholding_events.withholding_event_id as previous_withholding_event_id,
        previous_withholding_events.withholding_event_ts_utc as previous_withholding_event_ts_utc,
        customers.latest_consent_event_id,
        customers.latest_consent_event_ts_utc,
        audience.customer_id as published_customer_id,
        previous_withholding_events.previous_run_id

    from previous_withholding_events
    inner join customers
        on previous_withholding_events.customer_id = customers.customer_id
    inner join audience
        on customers.email_normalized = audience.email

),

-- still read, that event would be their latest email event or come before a later opt-in (an
-- opt-in at the same instant loses), so an opt-in no later than it that publishes them, or
-- leaves their address to another holder, means the event is no longer read; no deciding
-- instant at all is doubt, and listed
final as (

    select
        published_at_their_address.customer_id,
        published_at_their_address.previous_withholding_event_id,
        published_at_their_address.previous_withholding_event_ts_utc,
        published_at_their_address.latest_consent_event_id,
        published_at_their_address.latest_consent_event_ts_utc,
        published_at_their_address.published_customer_id,
        published_at_their_address.previous_run_id

    from published_at_their_address
    where
        coalesce(
            published_at_their_address.latest_consent_event_ts_utc
            > published_at_their_address.previous_withholding_event_ts_utc,
            false
        ) = false

)

select * from final
