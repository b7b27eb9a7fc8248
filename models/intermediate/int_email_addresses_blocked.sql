with

holders as (

    select * from {{ ref('int_email_address_holders') }}

),

final as (

    select
        email_normalized,
        count(*) as holder_count,
        sum(case when has_latest_consent_other_than_opt_in then 1 else 0 end) as holders_not_opted_in,
        sum(case when is_suppressed_by_customer_id then 1 else 0 end) as holders_suppressed_by_customer_id,
        sum(case when has_rejected_consent_event then 1 else 0 end) as holders_with_rejected_consent_event

    from holders
    group by email_normalized
    having sum(case when is_blocking_address then 1 else 0 end) > 0

)

select * from final
