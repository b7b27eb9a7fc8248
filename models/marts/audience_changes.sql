{#-
    The previous run is the one `audience_previous_run` picks: of the runs published to this
    build's destination dated before its as-of date, the one published last (run history, source `history`, written by
    `audience run` after each publish). A build without a destination or a history (a plain
    `dbt build` on the seeds) has no previous run: every current member has entered.
-#}
{%- set run_decisions = history_or_empty('run_decisions', [
    ('run_id', 'integer'),
    ('customer_id', dbt.type_bigint()),
    ('decision_reason', dbt.type_string()),
]) %}

with

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

previous_run as (

    select
        previous_run_id as run_id,
        previous_as_of_date as as_of_date

    from {{ ref('audience_previous_run') }}
    where previous_run_id is not null

),

previous_decisions as (

    select
        run_decisions.customer_id,
        run_decisions.decision_reason

    from {{ run_decisions }} as run_decisions
    inner join previous_run
        on run_decisions.run_id = previous_run.run_id

),

current_members as (

    select customer_id
    from decisions
    where decision = 'eligible'

),

previous_members as (

    select customer_id
    from previous_decisions
    where decision_reason = 'eligible'

),

members as (

    select
        coalesce(current_members.customer_id, previous_members.customer_id) as customer_id,
        case
            when previous_members.customer_id is null then 'entered'
            when current_members.customer_id is null then 'left'
            else 'stayed'
        end as change_type

    from current_members
    full outer join previous_members
        on current_members.customer_id = previous_members.customer_id

),

final as (

    select
        members.customer_id,
        members.change_type,
        case
            when members.change_type = 'left'
                then 'left: ' || coalesce(decisions.decision_reason, 'not_in_customers_file')
            when members.change_type = 'entered' and previous_decisions.decision_reason is not null
                then 'entered: was ' || previous_decisions.decision_reason
            when members.change_type = 'entered' and previous_run.run_id is not null
                then 'entered: new customer'
            else members.change_type
        end as change_description,
        decisions.decision_reason,
        decisions.exclusion_step,
        previous_decisions.decision_reason as previous_decision_reason,
        previous_run.run_id as previous_run_id,
        previous_run.as_of_date as previous_as_of_date,
        {{ as_of_date() }} as as_of_date

    from members
    left join decisions
        on members.customer_id = decisions.customer_id
    left join previous_decisions
        on members.customer_id = previous_decisions.customer_id
    left join previous_run
        on true

)

select * from final
