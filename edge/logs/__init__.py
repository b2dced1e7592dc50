"""What the daemon tells the operator on stderr: the log format (`logfmt`: text or JSON
lines), the terminal's status line (`statusline`) and the start-up progress of the first
connections (`progress`)."""
