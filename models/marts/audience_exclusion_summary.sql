with

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

-- the rules (macro exclusion_reasons: their numbering, descriptions and checks), and eligible
reasons as (

    select
        'eligible' as decision_reason,
        0 as exclusion_step,
        cast(null as {{ dbt.type_string() }}) as exclusion_description,
        cast(null as {{ dbt.type_string() }}) as rule_checks

    union all

    select
        exclusion_reason as decision_reason,
        exclusion_step,
        exclusion_description,
        rule_checks

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
        cast(coalesce(counts.customers, 0) as {{ dbt.type_bigint() }}) as customers,
        reasons.exclusion_description,
        reasons.rule_checks

    from reasons
    left join counts
        on reasons.decision_reason = counts.decision_reason

)

select * from final
