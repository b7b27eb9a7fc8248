-- Control: the audience previously published to this destination, plus the customers who
-- entered, minus those who left, is this audience: by customer and by address. The previous
-- audience by customer is read from the run history's decisions (history.run_decisions), apart
-- from the published values the deltas are computed from (history.run_audience), so a previous
-- audience recorded wrongly fails the run, and so does one whose decisions are no longer all
-- there (pruned by --keep-runs): it must count as many members as that run published. Returns
-- a row per customer or address that does not add up (the address itself is not shown: the
-- customer_id of one of its rows is), and one row when the previous audience's count does not.
{%- set run_decisions = history_or_empty('run_decisions', [
    ('run_id', 'integer'),
    ('customer_id', dbt.type_bigint()),
    ('decision_reason', dbt.type_string()),
]) %}

with

previous_run as (

    select * from {{ ref('audience_previous_run') }}

),

run_decisions as (

    select
        run_decisions.run_id,
        run_decisions.customer_id,
        run_decisions.decision_reason

    from {{ run_decisions }} as run_decisions

),

previous_members as (

    select * from {{ ref('audience_previous_members') }}

),

audience as (

    select * from {{ ref('eligible_audience') }}

),

entered as (

    select * from {{ ref('audience_entered') }}

),

departures as (

    select * from {{ ref('audience_left') }}

),

previous_by_decision as (

    select run_decisions.customer_id

    from run_decisions
    inner join previous_run
        on run_decisions.run_id = previous_run.previous_run_id
    where run_decisions.decision_reason = 'eligible'

),

previous_member_count as (

    select count(*) as member_count

    from previous_by_decision

),

count_differences as (

    select
        'previous audience count' as checked_by,
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        previous_run.previous_eligible - previous_member_count.member_count as difference

    from previous_run
    cross join previous_member_count
    where
        previous_run.previous_run_id is not null
        and previous_run.previous_eligible <> previous_member_count.member_count

),

customer_terms as (

    select
        customer_id,
        1 as term
    from previous_by_decision
    union all
    select
        customer_id,
        1 as term
    from entered
    union all
    select
        customer_id,
        -1 as term
    from departures
    union all
    select
        customer_id,
        -1 as term
    from audience

),

address_terms as (

    select
        email,
        customer_id,
        1 as term
    from previous_members
    where email is not null
    union all
    select
        email,
        customer_id,
        1 as term
    from entered
    union all
    select
        email,
        customer_id,
        -1 as term
    from departures
    where email is not null
    union all
    select
        email,
        customer_id,
        -1 as term
    from audience

),

customer_differences as (

    select
        'customer' as checked_by,
        customer_id,
        sum(term) as difference

    from customer_terms
    group by customer_id
    having sum(term) <> 0

),

address_differences as (

    select
        'address' as checked_by,
        min(customer_id) as customer_id,
        sum(term) as difference

    from address_terms
    group by email
    having sum(term) <> 0

),

final as (

    select * from customer_differences
    union all
    select * from address_differences
    union all
    select * from count_differences

)

select * from final
