{#-
    The customers the previous run to this destination (`audience_previous_run`) held
    suppressed, with the last day their active suppressions covered and, when suppressed by
    email only, the address's fingerprint (source `history`, table `run_decisions`). Empty on a
    first run and when that run was recorded before the history kept suppressions.
-#}
{%- set run_decisions = history_or_empty('run_decisions', [
    ('run_id', 'integer'),
    ('customer_id', dbt.type_bigint()),
    ('is_suppressed', dbt.type_boolean()),
    ('suppressed_through', 'date'),
    ('suppressed_address_hash', dbt.type_string()),
]) %}

with

previous_run as (

    select * from {{ ref('audience_previous_run') }}

),

run_decisions as (

    select
        run_decisions.run_id,
        run_decisions.customer_id,
        run_decisions.suppressed_through,
        run_decisions.suppressed_address_hash

    from {{ run_decisions }} as run_decisions
    where run_decisions.is_suppressed

),

final as (

    select
        cast(run_decisions.customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(run_decisions.suppressed_through as date) as suppressed_through,
        cast(run_decisions.suppressed_address_hash as {{ dbt.type_string() }}) as suppressed_address_hash,
        previous_run.previous_run_id

    from run_decisions
    inner join previous_run
        on run_decisions.run_id = previous_run.previous_run_id

)

select * from final
