{{ quarantined_rows('bookings') }}
