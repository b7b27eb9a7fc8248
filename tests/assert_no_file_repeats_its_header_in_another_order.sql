-- Control: no input file holds its header again in another column order (two exports joined,
-- the second written with its columns reordered). The lines after such a header are read in the
-- first header's order, so their values sit in the wrong columns (an opt-out's status read as a
-- channel, an event id as a customer id) and no rule can be trusted for them; the run stops and
-- the rejected file names the line. The header repeated in its own order is harmless (the lines
-- after it read as before) and is only rejected. Returns the files and lines.
with

header_lines as (

    {{ header_lines_in_another_order_relation() }}

),

final as (

    select * from header_lines

)

select * from final
