# profile_fig8.gp: the paper's Fig. 8 — per-frame accuracy against the signal maxprob of the prediction, the worst 5 % frames at the reference as red crosses, each configuration's detector threshold dashed
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1100,480 font ',10' } else { set terminal png size 1100,480 }
set output 'profile_fig8.png'
set multiplot layout 1,5
set grid
set xlabel 'maxprob'
set ylabel 'per-frame accuracy (%)'
set key bottom right
unset arrow
set arrow 1 from 0.963447, graph 0 to 0.963447, graph 1 nohead dt 2 lw 2
set title 'x2 q90 (val)'
plot 'profile_fig8.dat' index 0 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 0 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'worst 5 %'
unset arrow
set arrow 1 from 0.957215, graph 0 to 0.957215, graph 1 nohead dt 2 lw 2
set title 'x4 q90 (val)'
plot 'profile_fig8.dat' index 1 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 1 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'worst 5 %'
unset arrow
set arrow 1 from 0.937721, graph 0 to 0.937721, graph 1 nohead dt 2 lw 2
set title 'x6 q90 (val)'
plot 'profile_fig8.dat' index 2 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 2 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'worst 5 %'
unset arrow
set arrow 1 from 0.930805, graph 0 to 0.930805, graph 1 nohead dt 2 lw 2
set title 'x8 q90 (val)'
plot 'profile_fig8.dat' index 3 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 3 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'worst 5 %'
unset arrow
set arrow 1 from 0.964578, graph 0 to 0.964578, graph 1 nohead dt 2 lw 2
set title 'HR q90 (val)'
plot 'profile_fig8.dat' index 4 using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb '#3060c0' title 'frames', '' index 4 using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'worst 5 %'
unset multiplot
