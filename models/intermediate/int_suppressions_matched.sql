with

suppressions as (

    select * from {{ ref('int_suppressions_evaluated') }}

),

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

active_suppressions as (

    select
        source_line,
        customer_id,
        email_normalized,
        suppressed_until,
        is_active_because_unreadable

    from suppressions
    where is_active_on_as_of

),

matched_by_customer_id as (

    select
        customers.customer_id,
        active_suppressions.source_line,
        'customer_id' as matched_on,
        active_suppressions.suppressed_until,
        active_suppressions.is_active_because_unreadable

    from customers
    inner join active_suppressions
        on customers.customer_id = active_suppressions.customer_id

),

matched_by_email as (

    select
        customers.customer_id,
        active_suppressions.source_line,
        'email' as matched_on,
        active_suppressions.suppressed_until,
        active_suppressions.is_active_because_unreadable

    from customers
    inner join active_suppressions
        on customers.email_normalized = active_suppressions.email_normalized

),

matches as (

    select * from matched_by_customer_id
    union all
    select * from matched_by_email

),

final as (

    select
        customer_id,
        max(case when matched_on = 'customer_id' then 1 else 0 end) = 1 as is_suppressed_by_customer_id,
        max(case when matched_on = 'email' then 1 else 0 end) = 1 as is_suppressed_by_email,
        max(case when is_active_because_unreadable then 1 else 0 end) = 1 as has_unreadable_suppression,
        count(distinct source_line) as active_suppression_count,
        min(source_line) as first_suppression_source_line,
        -- the last day the active suppressions cover: none when one of them has no end
        -- (open-ended, unreadable dates, a line with a structural error)
        case when count(suppressed_until) = count(*) then max(suppressed_until) end as suppressed_through

    from matches
    group by customer_id

)

select * from final
