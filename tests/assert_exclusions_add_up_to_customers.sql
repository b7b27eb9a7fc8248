-- Control: eligible plus the exclusions per reason add up to the customers, and the
-- published audience has exactly the eligible customers.
with

summary as (

    select * from {{ ref('audience_exclusion_summary') }}

),

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

audience as (

    select * from {{ ref('eligible_audience') }}

),

totals as (

    select
        (select sum(customers) from summary) as customers_in_summary,
        (select count(*) from decisions) as customers_decided,
        (
            select customers from summary
            where decision_reason = 'eligible'
        ) as eligible_in_summary,
        (select count(*) from audience) as audience_rows

),

final as (

    select *
    from totals
    where
        customers_in_summary <> customers_decided
        or eligible_in_summary <> audience_rows

)

select * from final
