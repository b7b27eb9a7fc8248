with

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

reasons as (

    select
        'eligible' as decision_reason,
        0 as exclusion_step

    union all

    select
        exclusion_reason as decision_reason,
        exclusion_step

    from ({{ exclusion_reasons_relation() }}) as exclusion_reasons

),

counts as (

    select
        decision_reason,
        count(*) as customers

    from decisions
    group by decision_reason

),

final as (

    select
        reasons.decision_reason,
        reasons.exclusion_step,
        cast(coalesce(counts.customers, 0) as {{ dbt.type_bigint() }}) as customers

    from reasons
    left join counts
        on reasons.decision_reason = counts.decision_reason

)

select * from final
