with

audience as (

    select * from {{ ref('eligible_audience') }}

),

previous_withholding_events as (

    select * from {{ ref('audience_previous_withholding_events') }}

),

consent_events as (

    select * from {{ ref('stg_exports__consent_events') }}

),

-- the customers published now whose latest email event withheld consent in the previous run
published_after_withholding as (

    select
        audience.customer_id,
        previous_withholding_events.withholding_event_id as previous_withholding_event_id,
        previous_withholding_events.previous_run_id

    from audience
    inner join previous_withholding_events
        on audience.customer_id = previous_withholding_events.customer_id

),

-- kept when this build no longer reads that event for the customer (an anti-join: a match,
-- however many rows it has, drops the customer)
final as (

    select
        published_after_withholding.customer_id,
        published_after_withholding.previous_withholding_event_id,
        published_after_withholding.previous_run_id

    from published_after_withholding
    left join consent_events
        on
            published_after_withholding.customer_id = consent_events.customer_id
            and published_after_withholding.previous_withholding_event_id = consent_events.event_id
    where consent_events.event_id is null

)

select * from final
