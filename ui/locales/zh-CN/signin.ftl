# Pitstop UI (zh-CN): signin.
