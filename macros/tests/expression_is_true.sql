{#-
    Generic test: every row satisfies a SQL boolean expression.

    Fails with the rows for which `expression` is false or null (null counts as a failure:
    a control that cannot be evaluated has not passed). Works on a model or on a column;
    on a column, `column_name` is ignored and the expression names the columns it needs.

        data_tests:
          - expression_is_true:
              arguments:
                expression: "raw_rows = accepted_rows + rejected_rows + duplicate_rows"
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
