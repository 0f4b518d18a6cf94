"""Reference trainings of the synthetic benchmark (teacher, student alone), cached."""
