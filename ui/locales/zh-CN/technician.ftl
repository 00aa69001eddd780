# Pitstop UI (zh-CN): technician.
