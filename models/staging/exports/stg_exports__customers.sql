{{ config(materialized='view') }}

with

checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

final as (

    select
        source_line,
        customer_id,
        email_normalized,
        first_name,
        home_state,
        loyalty_tier,
        is_active,
        updated_at_utc

    from checked
    where disposition = 'accepted'

)

select * from final
