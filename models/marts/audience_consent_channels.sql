with

consent_events as (

    select * from {{ ref('stg_exports__consent_events') }}

),

-- rules 5 and 6 read each channel one of three ways (macro email_channel_reading)
events_read as (

    select
        channel,
        {{ email_channel_reading('channel') }} as channel_reading,
        customer_id,
        coalesce(consent_status, '') = 'OPT_IN' as is_opt_in

    from consent_events

),

final as (

    select
        channel,
        channel_reading,
        count(*) as event_count,
        sum(case when is_opt_in then 0 else 1 end) as non_opt_in_event_count,
        count(distinct customer_id) as customer_count

    from events_read
    group by channel, channel_reading

)

select * from final
