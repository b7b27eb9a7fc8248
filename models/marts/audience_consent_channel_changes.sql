{#-
    Each consent channel of this build against the run it is compared with
    (`audience_previous_run`): new, read differently, or seen before. Without a previous run,
    or when that run was recorded before the channels were kept, there is nothing to compare
    with and channel_change is null.
-#}

with

channels as (

    select * from {{ ref('audience_consent_channels') }}

),

previous_run as (

    select * from {{ ref('audience_previous_run') }}

),

previous_channels as (

    select * from {{ ref('audience_previous_consent_channels') }}

),

-- the previous run's channels can be compared with only if that run kept them
compared_run as (

    select previous_run.previous_run_id

    from previous_run
    where previous_run.previous_consent_channel_count is not null

),

channels_compared as (

    select
        channels.channel,
        channels.channel_reading,
        channels.event_count,
        channels.email_event_count,
        channels.withholding_event_count,
        channels.customer_count,
        compared_run.previous_run_id,
        previous_channels.channel_reading as previous_channel_reading,
        previous_channels.email_event_count as previous_email_event_count,
        compared_run.previous_run_id is not null as is_compared,
        previous_channels.previous_run_id is not null as was_read_before

    from channels
    left join compared_run
        on true
    left join previous_channels
        on channels.channel is not distinct from previous_channels.channel

),

final as (

    select
        channels_compared.channel,
        channels_compared.channel_reading,
        channels_compared.event_count,
        channels_compared.email_event_count,
        channels_compared.withholding_event_count,
        channels_compared.customer_count,
        channels_compared.previous_run_id,
        channels_compared.previous_channel_reading,
        channels_compared.previous_email_event_count,
        case
            when not channels_compared.is_compared then null
            when not channels_compared.was_read_before then 'new'
            when
                channels_compared.channel_reading <> channels_compared.previous_channel_reading
                then 'read_differently'
            else 'seen_before'
        end as channel_change

    from channels_compared

)

select * from final
