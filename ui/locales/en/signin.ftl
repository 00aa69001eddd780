# Pitstop UI (en): signin.
