{#-
    Rule 8's window as the controls re-derive it, from the build's parameters (a relation with
    `as_of_date`, `recent_booking_days` and `counted_booking_statuses`, such as
    `audience_build_parameters`): one row with `counted_statuses` (the comma-joined list with a
    comma at each end, to look for `,<status>,` in), `opens_after` (as-of - recent_booking_days)
    and `closes_on` (the as-of date). The bounds are computed once, not per booking.
-#}
{% macro recent_booking_window(build_parameters) -%}
    select
        {{ dbt.concat(["','", build_parameters ~ '.counted_booking_statuses', "','"]) }}
            as counted_statuses,
        cast({{ dbt.dateadd(
            'day',
            '-1 * ' ~ build_parameters ~ '.recent_booking_days',
            build_parameters ~ '.as_of_date',
        ) }} as date) as opens_after,
        {{ build_parameters }}.as_of_date as closes_on

    from {{ build_parameters }}
{%- endmacro %}


{#-
    Whether a booking (a relation with `booking_status` and `booking_date`) counts in the
    window of `recent_booking_window` (joined as `booking_window`): its status is in the list
    and opens_after < booking_date <= closes_on.
-#}
{% macro counts_in_recent_booking_window(bookings, booking_window) -%}
    {{ dbt.position(
        dbt.concat(["','", bookings ~ '.booking_status', "','"]),
        booking_window ~ '.counted_statuses',
    ) }} > 0
    and {{ bookings }}.booking_date > {{ booking_window }}.opens_after
    and {{ bookings }}.booking_date <= {{ booking_window }}.closes_on
{%- endmacro %}


{#-
    Whether a suppression (a relation with `suppressed_from`, `suppressed_until`,
    `is_open_ended` and `has_unreadable_dates`) is active on the build's as-of date (a relation
    with `as_of_date`, such as `audience_build_parameters`), as the controls re-derive rule 7:
    suppressed_from <= as-of and suppressed_until blank or >= as-of, or dates that cannot be
    read.
-#}
{% macro is_active_suppression(suppressions, build_parameters) -%}
    (
        {{ suppressions }}.has_unreadable_dates
        or (
            {{ suppressions }}.suppressed_from <= {{ build_parameters }}.as_of_date
            and (
                {{ suppressions }}.is_open_ended
                or {{ suppressions }}.suppressed_until >= {{ build_parameters }}.as_of_date
            )
        )
    )
{%- endmacro %}
