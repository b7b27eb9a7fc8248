{#-
    The consent channels of the run this build is compared with (`audience_previous_run`), as
    that run read them (source `history`, table `run_consent_channels`, written by
    `audience run` after each publish). Empty on a first run and when that run was recorded
    before the channels were kept.
-#}
{%- set run_consent_channels = history_or_empty('run_consent_channels', [
    ('run_id', 'integer'),
    ('channel', dbt.type_string()),
    ('channel_reading', dbt.type_string()),
    ('event_count', dbt.type_bigint()),
    ('email_event_count', dbt.type_bigint()),
    ('withholding_event_count', dbt.type_bigint()),
]) %}

with

previous_run as (

    select * from {{ ref('audience_previous_run') }}

),

run_consent_channels as (

    select
        run_consent_channels.run_id,
        run_consent_channels.channel,
        run_consent_channels.channel_reading,
        run_consent_channels.event_count,
        run_consent_channels.email_event_count,
        run_consent_channels.withholding_event_count

    from {{ run_consent_channels }} as run_consent_channels

),

final as (

    select
        cast(run_consent_channels.channel as {{ dbt.type_string() }}) as channel,
        cast(run_consent_channels.channel_reading as {{ dbt.type_string() }}) as channel_reading,
        cast(run_consent_channels.event_count as {{ dbt.type_bigint() }}) as event_count,
        cast(run_consent_channels.email_event_count as {{ dbt.type_bigint() }}) as email_event_count,
        cast(
            run_consent_channels.withholding_event_count as {{ dbt.type_bigint() }}
        ) as withholding_event_count,
        previous_run.previous_run_id

    from run_consent_channels
    inner join previous_run
        on run_consent_channels.run_id = previous_run.previous_run_id

)

select * from final
