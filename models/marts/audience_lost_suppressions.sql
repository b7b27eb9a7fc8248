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

-- the customers published now whom the previous run held suppressed, with their address now
published_after_suppression as (

    select
        audience.customer_id,
        previous_suppressions.suppressed_through as previous_suppressed_through,
        previous_suppressions.suppressed_address_hash as previous_suppressed_address_hash,
        {{ address_fingerprint('customers.email_normalized') }} as address_hash,
        previous_suppressions.previous_run_id

    from audience
    inner join previous_suppressions
        on audience.customer_id = previous_suppressions.customer_id
    left join customers
        on audience.customer_id = customers.customer_id

),

-- a suppression that ran through a day before this build's as-of date has ended, and one by
-- email only does not follow a customer to a new address (rule 7); any other would exclude
-- the customer today if it were still read
final as (

    select
        published_after_suppression.customer_id,
        published_after_suppression.previous_suppressed_through,
        published_after_suppression.previous_run_id,
        published_after_suppression.previous_suppressed_address_hash is not null
            as was_suppressed_by_email_only

    from published_after_suppression
    where
        coalesce(
            published_after_suppression.previous_suppressed_through < {{ as_of_date() }},
            false
        ) = false
        and coalesce(
            published_after_suppression.previous_suppressed_address_hash
            <> published_after_suppression.address_hash,
            false
        ) = false

)

select * from final
