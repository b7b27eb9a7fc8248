-- Which rule removed how many customers, and how many of them failed only that rule (they
-- would be published if that one rule passed). A jump in one rule between runs points at the
-- input that changed: consent for not_opted_in, the suppression list for suppressed, ...
with

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

failures as (

    select
        customer_id,
        decision_reason,
        exclusion_step,
        (case when is_on_hold then 1 else 0 end)
        + (case when not is_active then 1 else 0 end)
        + (case when not has_email then 1 else 0 end)
        + (case when has_email and not has_valid_email then 1 else 0 end)
        + (case when not has_email_consent then 1 else 0 end)
        + (case when has_email_consent and not is_opted_in then 1 else 0 end)
        + (case when is_suppressed then 1 else 0 end)
        + (case when not has_recent_bookings then 1 else 0 end)
        + (case when is_address_blocked then 1 else 0 end) as rules_failed

    from decisions
    where decision = 'excluded'

),

final as (

    select
        decision_reason,
        exclusion_step,
        count(*) as customers,
        sum(case when rules_failed = 1 then 1 else 0 end) as failing_only_this_rule

    from failures
    group by decision_reason, exclusion_step

)

select * from final
order by exclusion_step
