# Pitstop UI (zh-CN): desk.
