{#-
    The customers whose latest email event withheld consent in the previous run to this
    destination (`audience_previous_run`), with that event (source `history`, table
    `run_decisions`, columns `withholding_event_id` and `withholding_event_ts_utc`). Empty on a
    first run and when that run was recorded before the history kept the events.
-#}
{%- set run_decisions = history_or_empty('run_decisions', [
    ('run_id', 'integer'),
    ('customer_id', dbt.type_bigint()),
    ('withholding_event_id', dbt.type_string()),
    ('withholding_event_ts_utc', dbt.type_timestamp()),
]) %}

with

previous_run as (

    select * from {{ ref('audience_previous_run') }}

),

run_decisions as (

    select
        run_decisions.run_id,
        run_decisions.customer_id,
        run_decisions.withholding_event_id,
        run_decisions.withholding_event_ts_utc

    from {{ run_decisions }} as run_decisions
    where run_decisions.withholding_event_ts_utc is not null

),

final as (

    select
        cast(run_decisions.customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(run_decisions.withholding_event_id as {{ dbt.type_string() }}) as withholding_event_id,
        cast(
            run_decisions.withholding_event_ts_utc as {{ dbt.type_timestamp() }}
        ) as withholding_event_ts_utc,
        previous_run.previous_run_id

    from run_decisions
    inner join previous_run
        on run_decisions.run_id = previous_run.previous_run_id

)

select * from final
