{#-
    The previous published run comes from the run history (source `history`, written by
    `audience run` after each publish). A database without history tables (a plain
    `dbt build` on the seeds) has no previous run: every current member has entered.
-#}
{%- set published_runs = source('history', 'published_runs') -%}
{%- set run_decisions = source('history', 'run_decisions') -%}
{%- if not (execute and load_relation(published_runs) and load_relation(run_decisions)) -%}
    {#- no history yet: the same queries read empty relations of the same shape -#}
    {%- set published_runs -%}
        (select cast(null as integer) as run_id, cast(null as date) as as_of_date where false)
    {%- endset -%}
    {%- set run_decisions -%}
        (select cast(null as integer) as run_id, cast(null as {{ dbt.type_bigint() }}) as customer_id,
            cast(null as {{ dbt.type_string() }}) as decision_reason where false)
    {%- endset -%}
{%- endif %}

with

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

previous_run as (

    select
        published_runs.run_id,
        published_runs.as_of_date

    from {{ published_runs }} as published_runs
    order by published_runs.run_id desc
    limit 1

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
