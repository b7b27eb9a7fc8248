with

consent_events as (

    select * from {{ ref('stg_exports__consent_events') }}

),

-- rules 5 and 6 read each channel one of three ways, and each event as an email event or not
-- (macros email_channel_reading and is_email_event)
events_read as (

    select
        channel,
        consent_status,
        {{ email_channel_reading('channel') }} as channel_reading,
        {{ is_email_event('channel', 'consent_status') }} as is_email_event,
        customer_id

    from consent_events

),

-- an email event withholds consent unless it is an OPT_IN: these are the events that exclude
events_classified as (

    select
        channel,
        channel_reading,
        is_email_event,
        customer_id,
        is_email_event and {{ withholds_consent('consent_status') }} as is_withholding_event

    from events_read

),

final as (

    select
        channel,
        channel_reading,
        count(*) as event_count,
        count(case when is_email_event then 1 end) as email_event_count,
        count(case when is_withholding_event then 1 end) as withholding_event_count,
        count(distinct customer_id) as customer_count

    from events_classified
    group by channel, channel_reading

)

select * from final
