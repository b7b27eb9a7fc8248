with

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

consent_events_checked as (

    select * from {{ ref('stg_exports__consent_events_checked') }}

),

-- a rejected row holds the customer_id it carries, or, when that id cannot be read, the one
-- its digits may name (customer_id_in_digits, and customer_id_before_zero_decimals when they
-- could be an id with three zero decimals: `157.000` holds 157000 and 157) and, on a consent
-- row, the one its event_id
-- names when the two columns look swapped (customer_id_in_event_id); a line with a structural
-- error holds every customer it may name (its salvaged ids, read from the line's start and
-- end, and read uncut where a thousands separator may have cut the id: `157,000`
-- holds 157, 0 and 157000); `union` keeps one row per customer and line, so a line whose
-- readings agree counts once
rejected_customer_rows as (

    select
        customer_id,
        source_line

    from customers_checked
    where disposition = 'rejected' and customer_id is not null

    union

    select
        salvaged_customer_id as customer_id,
        source_line

    from customers_checked
    where salvaged_customer_id is not null

    union

    select
        salvaged_customer_id_from_end as customer_id,
        source_line

    from customers_checked
    where salvaged_customer_id_from_end is not null

    union

    select
        salvaged_customer_id_uncut as customer_id,
        source_line

    from customers_checked
    where salvaged_customer_id_uncut is not null

    union

    select
        customer_id_in_digits as customer_id,
        source_line

    from customers_checked
    where disposition = 'rejected' and customer_id_in_digits is not null

    union

    select
        customer_id_before_zero_decimals as customer_id,
        source_line

    from customers_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals is not null

    union

    select
        customer_id_before_zero_decimals_from_end as customer_id,
        source_line

    from customers_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals_from_end is not null

),

rejected_consent_rows as (

    select
        customer_id,
        source_line

    from consent_events_checked
    where disposition = 'rejected' and customer_id is not null

    union

    select
        salvaged_customer_id as customer_id,
        source_line

    from consent_events_checked
    where salvaged_customer_id is not null

    union

    select
        salvaged_customer_id_from_end as customer_id,
        source_line

    from consent_events_checked
    where salvaged_customer_id_from_end is not null

    union

    select
        salvaged_customer_id_uncut as customer_id,
        source_line

    from consent_events_checked
    where salvaged_customer_id_uncut is not null

    union

    select
        customer_id_in_digits as customer_id,
        source_line

    from consent_events_checked
    where disposition = 'rejected' and customer_id_in_digits is not null

    union

    select
        customer_id_before_zero_decimals as customer_id,
        source_line

    from consent_events_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals is not null

    union

    select
        customer_id_before_zero_decimals_from_end as customer_id,
        source_line

    from consent_events_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals_from_end is not null

    union

    select
        customer_id_in_event_id as customer_id,
        source_line

    from consent_events_checked
    where disposition = 'rejected' and customer_id_in_event_id is not null

),

customer_counts as (

    select
        customer_id,
        count(*) as rejected_customer_rows,
        min(source_line) as first_rejected_customer_line

    from rejected_customer_rows
    group by customer_id

),

consent_counts as (

    select
        customer_id,
        count(*) as rejected_consent_event_rows,
        min(source_line) as first_rejected_consent_event_line

    from rejected_consent_rows
    group by customer_id

),

held_customer_ids as (

    select customer_id from customer_counts
    union
    select customer_id from consent_counts

),

final as (

    select
        held_customer_ids.customer_id,
        customer_counts.first_rejected_customer_line,
        consent_counts.first_rejected_consent_event_line,
        coalesce(customer_counts.rejected_customer_rows, 0) as rejected_customer_rows,
        coalesce(consent_counts.rejected_consent_event_rows, 0) as rejected_consent_event_rows

    from held_customer_ids
    left join customer_counts
        on held_customer_ids.customer_id = customer_counts.customer_id
    left join consent_counts
        on held_customer_ids.customer_id = consent_counts.customer_id

)

select * from final
