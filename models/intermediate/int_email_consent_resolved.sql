with

consent_events as (

    select * from {{ ref('stg_exports__consent_events') }}

),

-- a channel that is neither email nor known to be another one (var non_email_channels) may
-- be the email channel, blank or not: an event on it counts unless it is an OPT_IN (doubt
-- excludes, and consent is never assumed)
email_events as (

    select * from consent_events
    where {{ is_email_event('channel', 'consent_status') }}

),

-- an OPT_IN dated after the as-of date had not been given on it: it consents to nothing; any
-- other status dated after it still counts (doubt excludes)
counted_events as (

    select * from email_events
    where
        {{ withholds_consent('consent_status') }}
        or cast(event_ts_utc as date) <= {{ as_of_date() }}

),

events_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by
                event_ts_utc desc,
                coalesce(consent_status = 'OPT_IN', false) asc,
                consent_status asc nulls first,
                event_id asc nulls first,
                source_line asc
        ) as event_rank,
        count(*) over (partition by customer_id) as email_event_count

    from counted_events

),

final as (

    select
        customer_id,
        email_event_count,
        event_id as latest_event_id,
        source_line as latest_event_source_line,
        event_ts_utc as latest_event_ts_utc,
        consent_status as latest_consent_status,
        coalesce(consent_status = 'OPT_IN', false) as is_opted_in

    from events_ranked
    where event_rank = 1

)

select * from final
