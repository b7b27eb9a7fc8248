-- Control: the audience's total spend equals the sum of the recent bookings that count of its
-- members (exact decimals summed before rounding can differ from summed rounded values by at
-- most half a cent per member; anything beyond that is a lost or double-counted booking).
with

audience as (

    select * from {{ ref('eligible_audience') }}

),

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

totals as (

    select
        (select coalesce(sum(total_spend_last_365_days), 0) from audience) as published_total,
        (
            select coalesce(sum(total_spend_last_365_days_exact), 0)
            from decisions
            where decision = 'eligible'
        ) as exact_total,
        (select count(*) from audience) as members

),

final as (

    select *
    from totals
    where abs(published_total - exact_total) > 0.005 * members

)

select * from final
