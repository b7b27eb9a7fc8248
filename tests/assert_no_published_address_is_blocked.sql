-- Control: no published address is held by a customer, whatever their own decision, whose
-- latest email consent is not OPT_IN, who is actively suppressed by customer_id, or who has a
-- rejected consent_events row (rule 9). Re-derived here from the staging models,
-- independently of the intermediate models that decided: the holders of an address are the
-- customers whose current snapshot carries it, and every customer a rejected customers row
-- carrying it may name. A row per published address, other holder who blocks it, and reason.
-- The as-of date is the build's (audience_build_parameters).
with

audience as (

    select * from {{ ref('eligible_audience') }}

),

build_parameters as (

    select * from {{ ref('audience_build_parameters') }}

),

all_snapshots as (

    select * from {{ ref('stg_exports__customers') }}

),

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

consent_checked as (

    select * from {{ ref('stg_exports__consent_events_checked') }}

),

all_consent_events as (

    select * from {{ ref('stg_exports__consent_events') }}

),

suppressions_checked as (

    select * from {{ ref('stg_exports__suppressions_checked') }}

),

suppressions as (

    select * from {{ ref('stg_exports__suppressions') }}

),

-- only another customer with a snapshot carrying a published address can share it now (the
-- published customer's own consent and suppressions are rules 1, 6 and 7, re-checked by
-- assert_audience_has_no_ineligible_member): only their snapshots are read
possible_holders as (

    select distinct all_snapshots.customer_id

    from all_snapshots
    inner join audience
        on all_snapshots.email_normalized = audience.email
    where all_snapshots.customer_id <> audience.customer_id

),

snapshots as (

    select all_snapshots.*

    from all_snapshots
    inner join possible_holders
        on all_snapshots.customer_id = possible_holders.customer_id

),

-- the current snapshot's email, by the tie-breaks of rules 2 and 3: the latest instant among
-- the snapshots that count on the as-of date (an active one dated after it does not; the
-- latest of all when none does); among the snapshots at that instant the inactive ones if
-- any; among those, none when one has no email, else the lowest (the later tie-breaks cannot
-- change the email)
latest_snapshot_at as (

    select
        snapshots.customer_id,
        coalesce(
            max(
                case
                    when
                        cast(snapshots.updated_at_utc as date) <= build_parameters.as_of_date
                        or not snapshots.is_active
                        then snapshots.updated_at_utc
                end
            ),
            max(snapshots.updated_at_utc)
        ) as updated_at_utc

    from snapshots
    cross join build_parameters
    group by snapshots.customer_id

),

latest_snapshots as (

    select
        snapshots.customer_id,
        snapshots.is_active,
        snapshots.email_normalized

    from snapshots
    inner join latest_snapshot_at
        on
            snapshots.customer_id = latest_snapshot_at.customer_id
            and snapshots.updated_at_utc = latest_snapshot_at.updated_at_utc

),

latest_activity as (

    select
        latest_snapshots.customer_id,
        min(case when latest_snapshots.is_active then 1 else 0 end) = 1 as is_active

    from latest_snapshots
    group by latest_snapshots.customer_id

),

holders as (

    select
        latest_snapshots.customer_id,
        case
            when count(*) = count(latest_snapshots.email_normalized)
                then min(latest_snapshots.email_normalized)
        end as email

    from latest_snapshots
    inner join latest_activity
        on
            latest_snapshots.customer_id = latest_activity.customer_id
            and latest_snapshots.is_active = latest_activity.is_active
    group by latest_snapshots.customer_id

),

-- the ids a customers line with a structural error may name (read from its start, its end
-- and uncut, and before three zero decimals)
broken_line_ids as (

    select
        source_line,
        salvaged_customer_id as customer_id
    from customers_checked
    where salvaged_customer_id is not null
    union
    select
        source_line,
        salvaged_customer_id_from_end as customer_id
    from customers_checked
    where salvaged_customer_id_from_end is not null
    union
    select
        source_line,
        salvaged_customer_id_uncut as customer_id
    from customers_checked
    where salvaged_customer_id_uncut is not null
    union
    select
        source_line,
        customer_id_before_zero_decimals as customer_id
    from customers_checked
    where customer_id_before_zero_decimals is not null and addresses_in_line is not null
    union
    select
        source_line,
        customer_id_before_zero_decimals_from_end as customer_id
    from customers_checked
    where customer_id_before_zero_decimals_from_end is not null and addresses_in_line is not null

),

-- each of them with every address written in the line (a cut field shifts the email's place)
broken_line_addresses as (

    select
        broken_line_ids.customer_id,
        {{ words_of('customers_checked.addresses_in_line') }} as email
    from broken_line_ids
    inner join customers_checked
        on broken_line_ids.source_line = customers_checked.source_line
    where customers_checked.addresses_in_line is not null

),

-- the customers a rejected customers row may name (its id, the id in its digits and before
-- three zero decimals, the ids read from the start and end of a line that cannot be split and
-- uncut),
-- with each address it may carry (for a line that cannot be split, every address in it too)
rejected_row_readings as (

    select
        customer_id,
        email_normalized as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        customer_id_in_digits as customer_id,
        email_normalized as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        customer_id_before_zero_decimals as customer_id,
        email_normalized as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        customer_id_before_zero_decimals_from_end as customer_id,
        email_normalized as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        customer_id_before_zero_decimals as customer_id,
        salvaged_email_normalized as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        customer_id_before_zero_decimals_from_end as customer_id,
        salvaged_email_normalized as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        customer_id_before_zero_decimals as customer_id,
        salvaged_email_normalized_from_end as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        customer_id_before_zero_decimals_from_end as customer_id,
        salvaged_email_normalized_from_end as email
    from customers_checked
    where disposition = 'rejected'
    union
    select
        salvaged_customer_id as customer_id,
        salvaged_email_normalized as email
    from customers_checked
    union
    select
        salvaged_customer_id as customer_id,
        salvaged_email_normalized_from_end as email
    from customers_checked
    union
    select
        salvaged_customer_id_from_end as customer_id,
        salvaged_email_normalized as email
    from customers_checked
    union
    select
        salvaged_customer_id_from_end as customer_id,
        salvaged_email_normalized_from_end as email
    from customers_checked
    union
    select
        salvaged_customer_id_uncut as customer_id,
        salvaged_email_normalized as email
    from customers_checked
    union
    select
        salvaged_customer_id_uncut as customer_id,
        salvaged_email_normalized_from_end as email
    from customers_checked
    union
    select
        customer_id,
        email
    from broken_line_addresses

),

all_holders as (

    select
        holders.customer_id,
        holders.email
    from holders

    union

    select
        rejected_row_readings.customer_id,
        rejected_row_readings.email
    from rejected_row_readings
    inner join audience
        on rejected_row_readings.email = audience.email
    where rejected_row_readings.customer_id is not null

),

holder_ids as (

    select distinct all_holders.customer_id

    from all_holders

),

-- the events that count: the email channel, or a channel neither email nor one of the build's
-- non-email channels (blank included) unless OPT_IN; an OPT_IN dated after the as-of date
-- does not count (rule 6)
holder_email_events as (

    select all_consent_events.*

    from all_consent_events
    inner join holder_ids
        on all_consent_events.customer_id = holder_ids.customer_id
    cross join build_parameters
    where {{ counts_as_email_consent_event('all_consent_events', 'build_parameters') }}

),

latest_email_event_at as (

    select
        holder_email_events.customer_id,
        max(holder_email_events.event_ts_utc) as event_ts_utc

    from holder_email_events
    group by holder_email_events.customer_id

),

-- any email event at the latest instant that is not OPT_IN decides
latest_consent_not_opt_in as (

    select distinct holder_email_events.customer_id

    from holder_email_events
    inner join latest_email_event_at
        on
            holder_email_events.customer_id = latest_email_event_at.customer_id
            and holder_email_events.event_ts_utc = latest_email_event_at.event_ts_utc
    where coalesce(holder_email_events.consent_status, '') <> 'OPT_IN'

),

-- a rejected consent_events row, or a line with a structural error that may name the customer
rejected_consent as (

    select customer_id from consent_checked
    where disposition = 'rejected' and customer_id is not null
    union
    select salvaged_customer_id as customer_id from consent_checked
    where salvaged_customer_id is not null
    union
    select salvaged_customer_id_from_end as customer_id from consent_checked
    where salvaged_customer_id_from_end is not null
    union
    select salvaged_customer_id_uncut as customer_id from consent_checked
    where salvaged_customer_id_uncut is not null
    union
    select customer_id_in_digits as customer_id from consent_checked
    where disposition = 'rejected' and customer_id_in_digits is not null
    union
    select customer_id_before_zero_decimals as customer_id from consent_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals is not null
    union
    select customer_id_before_zero_decimals_from_end as customer_id from consent_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals_from_end is not null

),

-- rule 7's active suppressions by customer_id: dates that cannot be read still suppress, a
-- customer_id that cannot be read suppresses the id in its digits by the row's dates, an id
-- written in the email column suppresses that customer by the row's dates, and every id a
-- suppressions line with a structural error may name is suppressed
suppressed_by_customer_id as (

    select suppressions.customer_id

    from suppressions
    cross join build_parameters
    where
        suppressions.customer_id is not null
        and {{ is_active_suppression('suppressions', 'build_parameters') }}
    union
    select suppressions_checked.customer_id_in_digits as customer_id
    from suppressions_checked
    cross join build_parameters
    where
        suppressions_checked.customer_id_in_digits is not null
        and suppressions_checked.disposition <> 'duplicate'
        and {{ is_active_suppression('suppressions_checked', 'build_parameters') }}
    union
    select suppressions_checked.customer_id_before_zero_decimals as customer_id
    from suppressions_checked
    cross join build_parameters
    where
        suppressions_checked.customer_id_before_zero_decimals is not null
        and suppressions_checked.disposition <> 'duplicate'
        and {{ is_active_suppression('suppressions_checked', 'build_parameters') }}
    union
    select suppressions_checked.customer_id_before_zero_decimals_from_end as customer_id
    from suppressions_checked
    cross join build_parameters
    where
        suppressions_checked.customer_id_before_zero_decimals_from_end is not null
        and suppressions_checked.disposition <> 'duplicate'
        and {{ is_active_suppression('suppressions_checked', 'build_parameters') }}
    union
    select suppressions_checked.customer_id_in_email as customer_id
    from suppressions_checked
    cross join build_parameters
    where
        suppressions_checked.customer_id_in_email is not null
        and suppressions_checked.disposition <> 'duplicate'
        and {{ is_active_suppression('suppressions_checked', 'build_parameters') }}
    union
    select salvaged_customer_id as customer_id from suppressions_checked
    where salvaged_customer_id is not null
    union
    select salvaged_customer_id_from_end as customer_id from suppressions_checked
    where salvaged_customer_id_from_end is not null
    union
    select salvaged_customer_id_uncut as customer_id from suppressions_checked
    where salvaged_customer_id_uncut is not null

),

blocking_reasons as (

    select
        latest_consent_not_opt_in.customer_id,
        'latest email consent is not OPT_IN' as reason
    from latest_consent_not_opt_in

    union all

    select
        rejected_consent.customer_id,
        'a consent_events row was rejected' as reason
    from rejected_consent

    union all

    select
        suppressed_by_customer_id.customer_id,
        'suppressed by customer_id' as reason
    from suppressed_by_customer_id

),

final as (

    select
        audience.customer_id as published_customer_id,
        audience.email,
        all_holders.customer_id as blocking_customer_id,
        blocking_reasons.reason

    from audience
    inner join all_holders
        on
            audience.email = all_holders.email
            and audience.customer_id <> all_holders.customer_id
    inner join blocking_reasons
        on all_holders.customer_id = blocking_reasons.customer_id

)

select * from final
