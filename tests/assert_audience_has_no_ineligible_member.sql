-- Control: nobody in the published audience fails a rule. Each rule is re-checked here from
-- the staging models, independently of the intermediate models that made the decision:
-- a customer appears below for every rule they break. The as-of date and the rules'
-- parameters are the build's (audience_build_parameters), so a later `dbt test` checks the
-- tables as they were built.
with

audience as (

    select * from {{ ref('eligible_audience') }}

),

build_parameters as (

    select * from {{ ref('audience_build_parameters') }}

),

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

consent_checked as (

    select * from {{ ref('stg_exports__consent_events_checked') }}

),

suppressions_checked as (

    select * from {{ ref('stg_exports__suppressions_checked') }}

),

all_snapshots as (

    select * from {{ ref('stg_exports__customers') }}

),

all_consent_events as (

    select * from {{ ref('stg_exports__consent_events') }}

),

suppressions as (

    select * from {{ ref('stg_exports__suppressions') }}

),

all_bookings as (

    select * from {{ ref('stg_exports__bookings') }}

),

-- every rule is about one customer: only the audience's rows need checking (smaller groups)
customers as (

    select all_snapshots.*

    from all_snapshots
    inner join audience
        on all_snapshots.customer_id = audience.customer_id

),

consent_events as (

    select all_consent_events.*

    from all_consent_events
    inner join audience
        on all_consent_events.customer_id = audience.customer_id

),

bookings as (

    select all_bookings.*

    from all_bookings
    inner join audience
        on all_bookings.customer_id = audience.customer_id

),

-- rule 1, including the customers named by lines that could not be split
held as (

    select customer_id from customers_checked
    where disposition = 'rejected' and customer_id is not null
    union
    select customer_id from consent_checked
    where disposition = 'rejected' and customer_id is not null
    union
    select salvaged_customer_id as customer_id from customers_checked
    where salvaged_customer_id is not null
    union
    select salvaged_customer_id_from_end as customer_id from customers_checked
    where salvaged_customer_id_from_end is not null
    union
    select salvaged_customer_id_uncut as customer_id from customers_checked
    where salvaged_customer_id_uncut is not null
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
    select customer_id_in_digits as customer_id from customers_checked
    where disposition = 'rejected' and customer_id_in_digits is not null
    union
    select customer_id_in_digits as customer_id from consent_checked
    where disposition = 'rejected' and customer_id_in_digits is not null
    union
    select customer_id_before_zero_decimals as customer_id from customers_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals is not null
    union
    select customer_id_before_zero_decimals_from_end as customer_id from customers_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals_from_end is not null
    union
    select customer_id_before_zero_decimals as customer_id from consent_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals is not null
    union
    select customer_id_before_zero_decimals_from_end as customer_id from consent_checked
    where disposition = 'rejected' and customer_id_before_zero_decimals_from_end is not null

),

-- the latest snapshot's instant among those that count on the as-of date (an active one
-- dated after it does not; the latest of all when none does); any snapshot at that instant
-- that is inactive wins
latest_snapshot_at as (

    select
        customers.customer_id,
        coalesce(
            max(
                case
                    when
                        cast(customers.updated_at_utc as date) <= build_parameters.as_of_date
                        or not customers.is_active
                        then customers.updated_at_utc
                end
            ),
            max(customers.updated_at_utc)
        ) as updated_at_utc

    from customers
    cross join build_parameters
    group by customers.customer_id

),

inactive_now as (

    select distinct customers.customer_id

    from customers
    inner join latest_snapshot_at
        on
            customers.customer_id = latest_snapshot_at.customer_id
            and customers.updated_at_utc = latest_snapshot_at.updated_at_utc
    where not customers.is_active

),

-- the events that count: the email channel, or a channel neither email nor one of the build's
-- non-email channels (blank included) unless OPT_IN; an OPT_IN dated after the as-of date
-- does not count (rules 5 and 6)
email_events as (

    select consent_events.*

    from consent_events
    cross join build_parameters
    where {{ counts_as_email_consent_event('consent_events', 'build_parameters') }}

),

latest_email_event_at as (

    select
        customer_id,
        max(event_ts_utc) as event_ts_utc

    from email_events
    group by customer_id

),

-- opted in only when every email event at the latest instant is OPT_IN
not_opted_in as (

    select latest_email_event_at.customer_id

    from latest_email_event_at
    left join email_events
        on
            latest_email_event_at.customer_id = email_events.customer_id
            and latest_email_event_at.event_ts_utc = email_events.event_ts_utc
            and coalesce(email_events.consent_status, '') <> 'OPT_IN'
    group by latest_email_event_at.customer_id
    having count(email_events.customer_id) > 0

),

-- rule 7: a suppressions line that could not be split suppresses whatever it may name
unsplittable_suppression_names as (

    select
        salvaged_customer_id as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized
    from suppressions_checked
    where salvaged_customer_id is not null
    union all
    select
        salvaged_customer_id_from_end as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized
    from suppressions_checked
    where salvaged_customer_id_from_end is not null
    union all
    select
        salvaged_customer_id_uncut as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized
    from suppressions_checked
    where salvaged_customer_id_uncut is not null
    union all
    select
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        salvaged_email_normalized as email_normalized
    from suppressions_checked
    where salvaged_email_normalized is not null
    union all
    select
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        salvaged_email_normalized_from_end as email_normalized
    from suppressions_checked
    where salvaged_email_normalized_from_end is not null

),

active_suppressions as (

    select suppressions.*

    from suppressions
    cross join build_parameters
    where {{ is_active_suppression('suppressions', 'build_parameters') }}

),

-- rule 7: a suppressions row whose customer_id cannot be read suppresses the id in its digits
-- (both readings of an id with three zero decimals), by its own dates
id_in_digits_suppressions as (

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

),

-- rule 7: what a suppressions row names in other forms, by its dates (a line with a structural
-- error has none it can read, so it is active): an address written inside its fields or line,
-- and an id written in its email column
active_suppression_lines as (

    select suppressions_checked.*

    from suppressions_checked
    cross join build_parameters
    where
        suppressions_checked.disposition <> 'duplicate'
        and {{ is_active_suppression('suppressions_checked', 'build_parameters') }}

),

suppression_field_readings as (

    select
        customer_id_in_email as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized
    from active_suppression_lines
    where customer_id_in_email is not null
    union all
    select
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        {{ words_of('addresses_in_fields') }} as email_normalized
    from active_suppression_lines
    where addresses_in_fields is not null

),

-- rule 8: bookings with a counted status (a comma-joined list in build_parameters) and
-- as-of - recent_booking_days < booking_date <= as-of, counted per customer; the window's
-- bounds are computed once
booking_window as (

    {{ recent_booking_window('build_parameters') }}

),

recent_bookings as (

    select
        bookings.customer_id,
        count(*) as recent_bookings

    from bookings
    cross join booking_window
    where {{ counts_in_recent_booking_window('bookings', 'booking_window') }}
    group by bookings.customer_id

),

violations as (

    select
        audience.customer_id,
        'on data-quality hold' as violation
    from audience
    inner join held on audience.customer_id = held.customer_id

    union all

    select
        audience.customer_id,
        'inactive' as violation
    from audience
    inner join inactive_now on audience.customer_id = inactive_now.customer_id

    union all

    select
        audience.customer_id,
        'no email consent event' as violation
    from audience
    left join latest_email_event_at on audience.customer_id = latest_email_event_at.customer_id
    where latest_email_event_at.customer_id is null

    union all

    select
        audience.customer_id,
        'latest email consent is not OPT_IN' as violation
    from audience
    inner join not_opted_in on audience.customer_id = not_opted_in.customer_id

    union all

    select
        audience.customer_id,
        'suppressed by customer_id' as violation
    from audience
    inner join active_suppressions on audience.customer_id = active_suppressions.customer_id

    union all

    select
        audience.customer_id,
        'suppressed by email' as violation
    from audience
    inner join active_suppressions on audience.email = active_suppressions.email_normalized

    union all

    select
        audience.customer_id,
        'id named by a suppressions line that could not be split' as violation
    from audience
    inner join unsplittable_suppression_names
        on audience.customer_id = unsplittable_suppression_names.customer_id

    union all

    select
        audience.customer_id,
        'id in the digits of a suppression whose customer_id cannot be read' as violation
    from audience
    inner join id_in_digits_suppressions
        on audience.customer_id = id_in_digits_suppressions.customer_id

    union all

    select
        audience.customer_id,
        'email named by a suppressions line that could not be split' as violation
    from audience
    inner join unsplittable_suppression_names
        on audience.email = unsplittable_suppression_names.email_normalized

    union all

    select
        audience.customer_id,
        'id written in the email column of an active suppression' as violation
    from audience
    inner join suppression_field_readings
        on audience.customer_id = suppression_field_readings.customer_id

    union all

    select
        audience.customer_id,
        'address written inside the fields of an active suppression' as violation
    from audience
    inner join suppression_field_readings
        on audience.email = suppression_field_readings.email_normalized

    union all

    select
        audience.customer_id,
        'fewer recent bookings that count than min_recent_bookings' as violation
    from audience
    cross join build_parameters
    left join recent_bookings on audience.customer_id = recent_bookings.customer_id
    where coalesce(recent_bookings.recent_bookings, 0) < build_parameters.min_recent_bookings

),

final as (

    select * from violations

)

select * from final
