-- Control: one decision per customer, no customer lost and none invented. The customers are
-- every customer_id read anywhere in the customers file (accepted or rejected rows, the id
-- a rejected row's unreadable customer_id shaped like a mangled one names, and the ids a line with a
-- structural error may name, read from its start, its end and uncut), recounted here from staging
-- independently of the intermediate models.
with

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

expected_customers as (

    select customer_id
    from customers_checked
    where customer_id is not null and disposition <> 'duplicate'

    union

    select customer_id_in_mangled_id as customer_id
    from customers_checked
    where customer_id_in_mangled_id is not null and disposition = 'rejected'

    union

    select customer_id_before_zero_decimals as customer_id
    from customers_checked
    where customer_id_before_zero_decimals is not null and disposition = 'rejected'

    union

    select customer_id_before_zero_decimals_from_end as customer_id
    from customers_checked
    where customer_id_before_zero_decimals_from_end is not null and disposition = 'rejected'

    union

    select salvaged_customer_id as customer_id
    from customers_checked
    where salvaged_customer_id is not null

    union

    select salvaged_customer_id_from_end as customer_id
    from customers_checked
    where salvaged_customer_id_from_end is not null

    union

    select salvaged_customer_id_uncut as customer_id
    from customers_checked
    where salvaged_customer_id_uncut is not null

),

decision_counts as (

    select
        customer_id,
        count(*) as decisions

    from decisions
    group by customer_id

),

final as (

    select
        coalesce(expected_customers.customer_id, decision_counts.customer_id) as customer_id,
        coalesce(decision_counts.decisions, 0) as decisions,
        expected_customers.customer_id is not null as is_expected

    from expected_customers
    full outer join decision_counts
        on expected_customers.customer_id = decision_counts.customer_id
    where
        expected_customers.customer_id is null
        or decision_counts.customer_id is null
        or decision_counts.decisions <> 1

)

select * from final
