with

audience as (

    select * from {{ ref('eligible_audience') }}

),

customers as (

    select * from {{ ref('int_customers_evaluated') }}

),

previous_suppressions as (

    select * from {{ ref('audience_previous_suppressions') }}

),

-- the customers the previous run held suppressed whose address is published now: at them, or
-- at another holder, for whom that suppression would block it too (rule 9)
published_at_their_address as (

    select
        previous_suppressions.customer_id,
        previous_suppressions.suppressed_through as previous_suppressed_through,
        previous_suppressions.suppressed_address_hash as previous_suppressed_address_hash,
        {{ address_fingerprint('customers.email_normalized') }} as address_hash,
        previous_suppressions.previous_run_id,
        audience.customer_id as published_customer_id

    from previous_suppressions
    inner join customers
        on previous_suppressions.customer_id = customers.customer_id
    inner join audience
        on customers.email_normalized = audience.email

),

-- a suppression that ran through a day before this build's as-of date has ended, and one by
-- email only does not follow a customer to a new address (rule 7); any other would exclude
-- the customer today if it were still read
final as (

    select
        published_at_their_address.customer_id,
        published_at_their_address.previous_suppressed_through,
        published_at_their_address.published_customer_id,
        published_at_their_address.previous_run_id,
        published_at_their_address.previous_suppressed_address_hash is not null
            as was_suppressed_by_email_only

    from published_at_their_address
    where
        coalesce(
            published_at_their_address.previous_suppressed_through < {{ as_of_date() }},
            false
        ) = false
        and coalesce(
            published_at_their_address.previous_suppressed_address_hash
            <> published_at_their_address.address_hash,
            false
        ) = false

)

select * from final
