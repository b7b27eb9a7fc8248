{#-
    The run this build is compared with: of the runs published to the build's destination
    (macro audience_destination()) with an earlier as-of date, the one published last (the
    highest run id): the run the destination's folder and platform hold, also after a backfill
    (a run dated before the latest, accepted), which the platform is synced to in full. Read from the run history (source `history`); without a destination or a
    history, there is none. Also the destination's latest published run whatever its date, for
    the drift guard's check that runs are not dated before it, and the run published there last
    (the highest run id), which tells whether this build was published after it.
-#}
{%- set published_runs = history_or_empty('published_runs', [
    ('run_id', 'integer'),
    ('as_of_date', 'date'),
    ('destination', dbt.type_string()),
    ('eligible', dbt.type_bigint()),
    ('consent_channel_count', 'integer'),
    ('withholding_customer_count', dbt.type_bigint()),
    ('suppressed_customer_count', dbt.type_bigint()),
]) %}

with

published_runs as (

    select
        published_runs.run_id,
        published_runs.as_of_date,
        published_runs.destination,
        published_runs.eligible,
        published_runs.consent_channel_count,
        published_runs.withholding_customer_count,
        published_runs.suppressed_customer_count

    from {{ published_runs }} as published_runs

),

build as (

    select
        {{ audience_destination_literal() }} as destination,
        {{ as_of_date() }} as as_of_date

),

destination_runs as (

    select
        published_runs.run_id,
        published_runs.as_of_date,
        published_runs.eligible,
        published_runs.consent_channel_count,
        published_runs.withholding_customer_count,
        published_runs.suppressed_customer_count,
        published_runs.as_of_date < build.as_of_date as is_earlier

    from published_runs
    inner join build
        on published_runs.destination = build.destination

),

previous_run as (

    select
        destination_runs.run_id,
        destination_runs.as_of_date,
        destination_runs.eligible,
        destination_runs.consent_channel_count,
        destination_runs.withholding_customer_count,
        destination_runs.suppressed_customer_count

    from destination_runs
    where destination_runs.is_earlier
    order by destination_runs.run_id desc
    limit 1

),

latest_run as (

    select
        destination_runs.run_id,
        destination_runs.as_of_date

    from destination_runs
    order by destination_runs.as_of_date desc, destination_runs.run_id desc
    limit 1

),

last_published_run as (

    select max(destination_runs.run_id) as run_id

    from destination_runs

),

final as (

    select
        build.destination,
        build.as_of_date,
        previous_run.run_id as previous_run_id,
        previous_run.as_of_date as previous_as_of_date,
        previous_run.eligible as previous_eligible,
        previous_run.consent_channel_count as previous_consent_channel_count,
        previous_run.withholding_customer_count as previous_withholding_customer_count,
        previous_run.suppressed_customer_count as previous_suppressed_customer_count,
        latest_run.run_id as latest_run_id,
        latest_run.as_of_date as latest_as_of_date,
        last_published_run.run_id as last_published_run_id

    from build
    left join previous_run
        on true
    left join latest_run
        on true
    left join last_published_run
        on true

)

select * from final
