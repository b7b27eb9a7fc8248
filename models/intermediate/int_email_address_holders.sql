-- A view: int_email_addresses_blocked reads it once and `audience explain` reads the holders of one
-- address; storing a row per customer again would buy nothing.
{{ config(materialized='view') }}

with

customers as (

    select * from {{ ref('int_customers_evaluated') }}

),

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

held as (

    select * from {{ ref('int_customers_held') }}

),

email_consent as (

    select * from {{ ref('int_email_consent_resolved') }}

),

suppressions as (

    select * from {{ ref('int_suppressions_evaluated') }}

),

current_addresses as (

    select
        customers.email_normalized,
        customers.customer_id,
        true as is_current_address,
        customers.is_suppressed_by_customer_id,
        customers.has_rejected_consent_event,
        customers.has_email_consent,
        customers.is_opted_in

    from customers
    where customers.email_normalized is not null

),

-- read once: the readings below are all on rejected rows (the salvaged ones on lines that
-- cannot be split), a few of every file's rows
rejected_rows as {{ materialized_cte() }} (

    select
        customers_checked.source_line,
        customers_checked.customer_id,
        customers_checked.customer_id_in_digits,
        customers_checked.customer_id_before_zero_decimals,
        customers_checked.customer_id_before_zero_decimals_from_end,
        customers_checked.email_normalized,
        customers_checked.salvaged_customer_id,
        customers_checked.salvaged_customer_id_from_end,
        customers_checked.salvaged_customer_id_uncut,
        customers_checked.salvaged_email_normalized,
        customers_checked.salvaged_email_normalized_from_end,
        customers_checked.addresses_in_line

    from customers_checked
    where customers_checked.disposition = 'rejected'

),

-- every customer a rejected customers row may name (rule 1's readings: the id, the id in its
-- digits, the id before three zero decimals, and for a line that cannot be split every id
-- read from its start, its end and uncut); `union` keeps one row per line and id
rejected_row_ids as (

    select
        source_line,
        customer_id
    from rejected_rows
    where customer_id is not null

    union

    select
        source_line,
        customer_id_in_digits as customer_id
    from rejected_rows
    where customer_id_in_digits is not null

    union

    select
        source_line,
        customer_id_before_zero_decimals as customer_id
    from rejected_rows
    where customer_id_before_zero_decimals is not null

    union

    select
        source_line,
        customer_id_before_zero_decimals_from_end as customer_id
    from rejected_rows
    where customer_id_before_zero_decimals_from_end is not null

    union

    select
        source_line,
        salvaged_customer_id as customer_id
    from rejected_rows
    where salvaged_customer_id is not null

    union

    select
        source_line,
        salvaged_customer_id_from_end as customer_id
    from rejected_rows
    where salvaged_customer_id_from_end is not null

    union

    select
        source_line,
        salvaged_customer_id_uncut as customer_id
    from rejected_rows
    where salvaged_customer_id_uncut is not null

),

-- every address a rejected customers row may carry: its email, or for a line that cannot be
-- split the one read from its start and from its end and every address written in it
rejected_row_emails as (

    select
        source_line,
        email_normalized
    from rejected_rows
    where email_normalized is not null

    union

    select
        source_line,
        salvaged_email_normalized as email_normalized
    from rejected_rows
    where salvaged_email_normalized is not null

    union

    select
        source_line,
        salvaged_email_normalized_from_end as email_normalized
    from rejected_rows
    where salvaged_email_normalized_from_end is not null

    union

    select
        source_line,
        {{ words_of('addresses_in_line') }} as email_normalized
    from rejected_rows
    where addresses_in_line is not null

),

-- a rejected customers row might be its customer's newest snapshot, so its address is theirs
-- too: every address it may carry, for every customer it may name; one row per address and
-- customer
rejected_row_addresses as (

    select distinct
        rejected_row_emails.email_normalized,
        rejected_row_ids.customer_id

    from rejected_row_emails
    inner join rejected_row_ids
        on rejected_row_emails.source_line = rejected_row_ids.source_line

),

-- the rejected rows' addresses that are not already their customer's current one
rejected_only_addresses as (

    select
        rejected_row_addresses.email_normalized,
        rejected_row_addresses.customer_id

    from rejected_row_addresses
    left join current_addresses
        on
            rejected_row_addresses.customer_id = current_addresses.customer_id
            and rejected_row_addresses.email_normalized = current_addresses.email_normalized
    where current_addresses.customer_id is null

),

rejected_holder_ids as (

    select distinct rejected_only_addresses.customer_id

    from rejected_only_addresses

),

suppressed_customer_ids as (

    select distinct suppressions.customer_id

    from suppressions
    where suppressions.is_active_on_as_of and suppressions.customer_id is not null

),

-- what rule 9 reads of a holder on a rejected row: their facts in int_customers_evaluated, or,
-- for someone who is no customer of the exports (an id read in its digits is never a customer
-- of its own), the same facts from the models that give them
rejected_holder_facts as (

    select
        customers.customer_id,
        customers.is_suppressed_by_customer_id,
        customers.has_rejected_consent_event,
        customers.has_email_consent,
        customers.is_opted_in
    from rejected_holder_ids
    inner join customers
        on rejected_holder_ids.customer_id = customers.customer_id

    union all

    select
        rejected_holder_ids.customer_id,
        suppressed_customer_ids.customer_id is not null as is_suppressed_by_customer_id,
        coalesce(held.rejected_consent_event_rows, 0) > 0 as has_rejected_consent_event,
        email_consent.customer_id is not null as has_email_consent,
        coalesce(email_consent.is_opted_in, false) as is_opted_in
    from rejected_holder_ids
    left join customers
        on rejected_holder_ids.customer_id = customers.customer_id
    left join suppressed_customer_ids
        on rejected_holder_ids.customer_id = suppressed_customer_ids.customer_id
    left join held
        on rejected_holder_ids.customer_id = held.customer_id
    left join email_consent
        on rejected_holder_ids.customer_id = email_consent.customer_id
    where customers.customer_id is null

),

holders as (

    select * from current_addresses

    union all

    select
        rejected_only_addresses.email_normalized,
        rejected_only_addresses.customer_id,
        false as is_current_address,
        rejected_holder_facts.is_suppressed_by_customer_id,
        rejected_holder_facts.has_rejected_consent_event,
        rejected_holder_facts.has_email_consent,
        rejected_holder_facts.is_opted_in
    from rejected_only_addresses
    inner join rejected_holder_facts
        on rejected_only_addresses.customer_id = rejected_holder_facts.customer_id

),

-- rule 9: any one of these casts doubt on the address for every holder, whatever their own
-- decision
final as (

    select
        email_normalized,
        customer_id,
        is_current_address,
        is_suppressed_by_customer_id,
        has_rejected_consent_event,
        has_email_consent and not is_opted_in as has_latest_consent_other_than_opt_in,
        coalesce(
            (has_email_consent and not is_opted_in)
            or is_suppressed_by_customer_id
            or has_rejected_consent_event,
            false
        ) as is_blocking_address

    from holders

)

select * from final
